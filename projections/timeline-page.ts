// The timeline as one self-contained HTML page: styles and script inline, the timeline embedded
// as JSON, and a content security policy that lets the page load nothing, so it can be mailed,
// archived or opened offline. Everything from the store (names, commands, diffs) reaches the DOM
// through textContent in the script, never as markup; the title, the one piece written here, is
// escaped, and the JSON cannot end its script element.
import type { Timeline } from './timeline.ts';

/** What a self-contained page may load: nothing but its own inline style and script. */
export const SELF_CONTAINED_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** JSON inside a script element: `<` escaped, so no `</script>` or `<!--` in names ends it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function timelinePage(timeline: Timeline, title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="content-security-policy" content="${SELF_CONTAINED_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ledgerfs timeline</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p id="summary"></p>
<p id="cut" class="cut" hidden></p>
</header>
<section id="conflicts" hidden><h2>Conflicts</h2><ul></ul></section>
<div id="legend"></div>
<div id="timeline"><div class="grid"></div></div>
<section id="detail"><p class="hint">Click a lane's name to see what that command changed, or an op to see what it did.</p></section>
<script type="application/json" id="timeline-data">${scriptJson(timeline)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = String.raw`
:root { --name: 340px; font: 14px/1.4 system-ui, sans-serif; color: #1d1f24; }
body { margin: 0 24px 48px; }
h1 { font-size: 20px; margin: 20px 0 4px; }
h2 { font-size: 15px; margin: 0 0 6px; }
#summary { margin: 0; color: #555; }
.cut { margin: 8px 0 0; padding: 6px 10px; background: #fff6d6; border: 1px solid #e8d48a; border-radius: 4px; }
#conflicts { margin: 14px 0 0; padding: 8px 12px; border: 1px solid #e3a1a1; background: #fff1f1; border-radius: 4px; }
#conflicts ul { margin: 0; padding-left: 18px; }
#conflicts li { margin: 2px 0; }
#legend { margin: 14px 0 6px; color: #555; font-size: 12px; }
#legend span { display: inline-flex; align-items: center; margin-right: 14px; }
#legend i { display: inline-block; width: 10px; height: 14px; border-radius: 2px; margin-right: 5px; }
#timeline { overflow-x: auto; border: 1px solid #d6d9de; border-radius: 4px; background: #fff; }
.grid { position: relative; width: max-content; min-width: 100%; }
.row { display: flex; height: 28px; width: max-content; min-width: 100%; }
.row:nth-child(even of .lane) { background: #f6f7f9; }
.row.selected { background: #e4eefc; }
.name { position: sticky; left: 0; z-index: 2; flex: none; box-sizing: border-box; width: var(--name); padding: 0 10px; border: 0;
  border-right: 1px solid #d6d9de; background-color: #fff; text-align: left; font: inherit; font-size: 13px;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; cursor: pointer; }
.row:nth-child(even of .lane) .name { background-color: #f6f7f9; }
.row.selected .name { background-color: #e4eefc; font-weight: 600; }
.name:hover { text-decoration: underline; }
.name small { color: #777; margin-left: 6px; }
.axis { height: 24px; border-bottom: 1px solid #d6d9de; font-size: 11px; color: #666; }
.axis .name { cursor: default; color: #666; }
.axis .name:hover { text-decoration: none; }
.track { position: relative; flex: none; }
.tick { position: absolute; top: 5px; white-space: nowrap; padding-left: 3px; border-left: 1px solid #bbb; }
.band { position: absolute; top: 0; bottom: 0; z-index: 1; width: 20px; margin-left: 4px; pointer-events: none;
  background: repeating-linear-gradient(135deg, #eceef1 0 4px, transparent 4px 8px); }
.gap { position: absolute; top: 5px; white-space: nowrap; color: #999; }
.op { position: absolute; top: 6px; width: 10px; height: 16px; padding: 0; border: 0; border-radius: 2px; cursor: pointer; }
.op:hover, .op.selected { outline: 2px solid #1d1f24; outline-offset: 1px; z-index: 1; }
.op.conflict { box-shadow: 0 0 0 2px #d21f1f; }
.op.conflict::after { content: "!"; position: absolute; top: -7px; left: 6px; width: 11px; height: 11px; border-radius: 6px;
  background: #d21f1f; color: #fff; font: bold 9px/11px system-ui, sans-serif; text-align: center; }
.k-create { background: #2e9e4f; } .k-link { background: #1b8a8a; } .k-setContent { background: #2f6fd1; }
.k-move { background: #8a4fd1; } .k-unlink, .k-rmdir { background: #d1542f; } .k-setAttr, .k-setXattr { background: #9aa1ab; }
#detail { margin-top: 16px; }
#detail .hint { color: #777; }
#detail h2 { font-size: 16px; margin: 0 0 4px; }
#detail .meta { margin: 0 0 10px; color: #555; }
button.link { border: 0; padding: 0; background: none; color: #2357b5; font: inherit; cursor: pointer; text-decoration: underline; }
.change { margin: 10px 0; border: 1px solid #d6d9de; border-radius: 4px; }
.change h3 { margin: 0; padding: 5px 10px; font: 600 13px ui-monospace, monospace; background: #f6f7f9; border-bottom: 1px solid #d6d9de; }
.change h3:last-child { border-bottom: 0; }
.change h3 .counts { font-weight: 400; color: #555; margin-left: 8px; }
.change .note { margin: 0; padding: 5px 10px; color: #777; }
pre.diff { margin: 0; padding: 4px 0; font: 12px/1.45 ui-monospace, monospace; overflow-x: auto; }
pre.diff span { display: block; padding: 0 10px; white-space: pre; }
pre.diff .add { background: #e6f7ea; color: #11632a; } pre.diff .del { background: #fdeaea; color: #9c1c1c; }
pre.diff .hunk { color: #6b45a8; background: #f4f0fb; } pre.diff .file { color: #777; }
.conflict-note { margin: 6px 0 10px; padding: 6px 10px; border-left: 3px solid #d21f1f; background: #fff1f1; }
`;

// Plain ES2017 in a String.raw: no template literals inside, so nothing here is interpolated.
const SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('timeline-data').textContent);
  var ops = data.ops, lanes = data.lanes;
  var COLUMN_PX = 14, GAP_PX = 34, GAP_MS = 2000, TICK_PX = 120;
  var STATUS = { added: 'A', removed: 'D', moved: 'R', changed: 'M' };
  var KINDS = ['create', 'setContent', 'move', 'link', 'unlink', 'rmdir', 'setAttr', 'setXattr'];

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function two(n) { return (n < 10 ? '0' : '') + n; }
  function clock(ms) { var d = new Date(ms); return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds()); }
  function when(ms) { var d = new Date(ms); return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate()) + ' ' + clock(ms); }
  function count(n, one) { return n.toLocaleString('en') + ' ' + one + (n === 1 ? '' : 's'); }
  function mib(bytes) { return Math.round(bytes / 1048576) + ' MiB'; }
  function span(ms) {
    if (ms < 60000) return Math.round(ms / 1000) + ' s';
    if (ms < 3600000) return Math.round(ms / 60000) + ' min';
    if (ms < 86400000) return Math.round(ms / 3600000) + ' h';
    return Math.round(ms / 86400000) + ' d';
  }
  function laneName(lane) { return lane.label + (lane.replica ? ' on replica ' + lane.replica : ''); }

  var summary = count(ops.length, 'op') + ' in ' + count(lanes.length, 'lane') + ', ' + count(data.conflicts.length, 'conflict');
  if (ops.length) summary += ', ' + when(ops[0].ms) + ' to ' + when(ops[ops.length - 1].ms);
  summary += ' · range: ' + (data.since ? 'after ' + data.since : 'from the start') + ', until ' + data.until + ' · replica ' + data.origin;
  document.getElementById('summary').textContent = summary;
  var cuts = [];
  if (data.cut.ops) cuts.push('Showing the last ' + count(ops.length, 'op') + ' of ' + data.opsInRange.toLocaleString('en') + ' in this range: pick an earlier window with since/until.');
  if (data.cut.diffs) cuts.push('Some diffs are not here: a page reads at most ' + mib(data.limits.diffReadBytesMax) + ' of file content and holds at most ' + mib(data.limits.patchBytesMax) + ' of diff text (ledgerfs show or changes prints them).');
  if (cuts.length) { var cut = document.getElementById('cut'); cut.textContent = cuts.join(' '); cut.hidden = false; }

  var legend = document.getElementById('legend');
  KINDS.forEach(function (kind) {
    var item = el('span');
    item.appendChild(el('i', 'k-' + kind));
    item.appendChild(document.createTextNode(kind));
    legend.appendChild(item);
  });
  var mark = el('span');
  var sample = el('i', 'k-setContent');
  sample.style.boxShadow = '0 0 0 2px #d21f1f';
  mark.appendChild(sample);
  mark.appendChild(document.createTextNode('in a conflict'));
  legend.appendChild(mark);

  // Ops in columns, in timestamp order; a pause longer than GAP_MS gets a hatched band.
  var xs = [], gaps = [], x = 8;
  ops.forEach(function (op, i) {
    if (i > 0 && op.ms - ops[i - 1].ms > GAP_MS) { gaps.push({ x: x, ms: op.ms - ops[i - 1].ms }); x += GAP_PX; }
    xs.push(x);
    x += COLUMN_PX;
  });
  var width = x + 16;
  var grid = document.querySelector('#timeline .grid');

  function row(className, name) {
    var r = el('div', 'row ' + className);
    r.appendChild(name);
    var track = el('div', 'track');
    track.style.width = width + 'px';
    r.appendChild(track);
    grid.appendChild(r);
    return track;
  }
  var axis = row('axis', el('div', 'name', 'time'));
  var lastTick = -Infinity;
  ops.forEach(function (op, i) {
    if (xs[i] - lastTick < TICK_PX) return;
    var tick = el('span', 'tick', clock(op.ms) + '.' + String(op.ms % 1000 + 1000).slice(1));
    tick.style.left = xs[i] + 'px';
    axis.appendChild(tick);
    lastTick = xs[i];
  });
  gaps.forEach(function (gap) {
    var label = el('span', 'gap', '+' + span(gap.ms));
    label.style.left = (gap.x - 2) + 'px';
    label.title = span(gap.ms) + ' without ops';
    axis.appendChild(label);
    var band = el('div', 'band');
    band.style.left = 'calc(var(--name) + ' + gap.x + 'px)';
    grid.appendChild(band);
  });

  var rows = [], marks = [], selected = [];
  lanes.forEach(function (lane, i) {
    var name = el('button', 'name lane-label');
    name.type = 'button';
    name.dataset.lane = String(i);
    name.title = [laneName(lane)].concat(lane.commands).join('\n');
    name.appendChild(document.createTextNode(laneName(lane)));
    name.appendChild(el('small', '', count(lane.ops, 'op') + (lane.commands.length > 1 ? ', ' + count(lane.commands.length, 'command') : '')));
    name.addEventListener('click', function () { showLane(i); });
    rows.push(row('lane', name));
    rows[i].parentNode.dataset.lane = String(i);
  });
  ops.forEach(function (op, i) {
    var button = el('button', 'op k-' + op.kind + (op.conflicts.length ? ' conflict' : ''));
    button.type = 'button';
    button.dataset.op = String(i);
    button.style.left = xs[i] + 'px';
    button.title = op.label + ' ' + op.kind + ' ' + (op.paths.join(' -> ') || '(unlinked)') + '\n' + when(op.ms) + '\n' + op.actor;
    button.addEventListener('click', function () { showOp(i); });
    rows[op.lane].appendChild(button);
    marks.push(button);
  });

  function select(nodes) {
    selected.forEach(function (node) { node.classList.remove('selected'); });
    selected = nodes;
    selected.forEach(function (node) { node.classList.add('selected'); });
  }

  function diffView(patch) {
    var pre = el('pre', 'diff');
    patch.replace(/\n$/, '').split('\n').forEach(function (line) {
      var kind = /^(---|\+\+\+) /.test(line) ? 'file' : line[0] === '@' ? 'hunk' : line[0] === '+' ? 'add' : line[0] === '-' ? 'del' : '';
      pre.appendChild(el('span', kind, line));
    });
    return pre;
  }

  function changesView(changes) {
    var list = el('div', 'changes');
    if (!changes.length) list.appendChild(el('p', 'hint', 'No file content, name or type changed (attributes only, or nothing that lasted).'));
    changes.forEach(function (change) {
      var box = el('div', 'change');
      var head = el('h3', '', STATUS[change.status] + ' ' + (change.from ? change.from + ' -> ' : '') + change.path + (change.type === 'file' ? '' : ' (' + change.type + ')'));
      if (change.added || change.removed) head.appendChild(el('span', 'counts', '+' + change.added + ' -' + change.removed));
      box.appendChild(head);
      if (change.note) box.appendChild(el('p', 'note', change.note));
      if (change.patch !== undefined) box.appendChild(diffView(data.patches[change.patch]));
      list.appendChild(box);
    });
    return list;
  }

  function opLink(ref, label) {
    var index = ops.findIndex(function (op) { return op.ref === ref; });
    if (index < 0) return el('span', '', label);
    var link = el('button', 'link', label);
    link.type = 'button';
    link.addEventListener('click', function () { showOp(index); });
    return link;
  }

  function conflictView(conflict) {
    var item = el('span');
    item.appendChild(document.createTextNode(conflict.kind === 'edit' ? 'Concurrent edits of ' + conflict.path + ' by ops ' : 'Two entries named ' + conflict.path + ', placed by ops '));
    conflict.ops.forEach(function (ref, i) {
      if (i > 0) item.appendChild(document.createTextNode(' and '));
      item.appendChild(opLink(ref, conflict.labels[i]));
    });
    var loser = conflict.kind === 'edit' ? 'the older edit' : 'the entry placed first';
    item.appendChild(document.createTextNode(conflict.shownAs ? '; ' + loser + (conflict.open ? ' shows as ' : ' showed as ') + conflict.shownAs + (conflict.open ? '' : ' (resolved since)') : '.'));
    return item;
  }

  function show(title, meta, extra, changes) {
    var detail = document.getElementById('detail');
    detail.textContent = '';
    detail.appendChild(el('h2', '', title));
    meta.forEach(function (line) { detail.appendChild(el('p', 'meta', line)); });
    extra.forEach(function (node) { detail.appendChild(node); });
    detail.appendChild(changesView(changes));
  }

  function showLane(i) {
    var lane = lanes[i];
    var own = ops.filter(function (op) { return op.lane === i; });
    select([rows[i].parentNode].concat(marks.filter(function (m, j) { return ops[j].lane === i; })));
    var meta = [count(lane.ops, 'op') + ' from ' + when(own[0].ms) + ' to ' + when(own[own.length - 1].ms) + '; what they changed, from before the first to the last:'];
    if (lane.commands.length > 1) meta.unshift('commands: ' + lane.commands.join(' · '));
    show(laneName(lane), meta, [], lane.changes);
  }

  function showOp(i) {
    var op = ops[i];
    select([rows[op.lane].parentNode, marks[i]]);
    var lane = el('p', 'meta');
    lane.appendChild(document.createTextNode('lane: '));
    var link = el('button', 'link', laneName(lanes[op.lane]));
    link.type = 'button';
    link.addEventListener('click', function () { showLane(op.lane); });
    lane.appendChild(link);
    var notes = op.conflicts.map(function (c) {
      var note = el('p', 'conflict-note');
      note.appendChild(conflictView(data.conflicts[c]));
      return note;
    });
    show('op ' + op.label + ' · ' + op.kind + ' ' + (op.paths.join(' -> ') || '(unlinked)'), [when(op.ms) + ' by ' + op.actor + ' · ' + op.ref], [lane].concat(notes), op.changes);
    marks[i].scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  if (!ops.length) document.querySelector('#detail .hint').textContent = 'No ops in this range.';
  if (data.conflicts.length) {
    var section = document.getElementById('conflicts');
    var list = section.querySelector('ul');
    data.conflicts.forEach(function (conflict) {
      var item = el('li');
      item.appendChild(conflictView(conflict));
      list.appendChild(item);
    });
    section.hidden = false;
  }
})();
`;
