#!/usr/bin/env node
// The `ledgerfs` command (see launch.mjs).
import { launch } from './launch.mjs';

await launch('ledgerfs');
