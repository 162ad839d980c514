#!/usr/bin/env node
// The `wsd` command (see launch.mjs).
import { launch } from './launch.mjs';

await launch('wsd');
