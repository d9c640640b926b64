// The Twilio side of the peer benchmark: JSON lines in, one JSON line out per input line.
//
// For each {"text": ...} line: new SegmentedMessage(text) from Twilio's Messaging Segment
// Calculator (npm package sms-segments-calculator), then {"encoding", "segments", "units",
// "per_segment_units"} like `textcredits estimate --jsonl`. NODE_PATH must name the
// node_modules folder that holds the package (scripts/peers/peers.sh sets it).
'use strict';

const readline = require('readline');
const { SegmentedMessage } = require('sms-segments-calculator');

const out = [];
let pending = 0;

function flush() {
  if (out.length > 0) {
    process.stdout.write(out.join(''));
    out.length = 0;
    pending = 0;
  }
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  const text = JSON.parse(line).text;
  const message = new SegmentedMessage(text, 'auto', false);
  const bitsPerUnit = message.encodingName === 'GSM-7' ? 7 : 16;
  const units = message.segments.map((segment) => segment.messageSizeInBits() / bitsPerUnit);
  out.push(
    JSON.stringify({
      encoding: message.encodingName,
      segments: message.segmentsCount,
      units: units.reduce((a, b) => a + b, 0),
      per_segment_units: units,
    }) + '\n',
  );
  pending += 1;
  if (pending >= 512) flush();
});
lines.on('close', flush);
