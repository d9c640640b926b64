"""The smsutil side of the peer benchmark: JSON lines in, one JSON line out per input line.

For each {"text": ...} line: smsutil.split (encoding and the split parts), then
{"encoding", "segments", "units", "per_segment_units"} like `textcredits estimate --jsonl`.
Run with the Python of the venv that has smsutil (scripts/peers/peers.sh sets it up).
"""

import json
import sys

import smsutil

ENCODINGS = {"gsm0338": "GSM-7", "utf_16_be": "UCS-2"}


def main():
    out = sys.stdout
    loads = json.loads
    dumps = json.dumps
    split = smsutil.split
    for line in sys.stdin.buffer:
        text = loads(line)["text"]
        result = split(text)
        # Part.bytes counts septets for GSM-7 and bytes (2 per UTF-16 unit) for UCS-2.
        per = 2 if result.encoding == "utf_16_be" else 1
        units = [part.bytes // per for part in result.parts]
        out.write(
            dumps(
                {
                    "encoding": ENCODINGS[result.encoding],
                    "segments": len(result.parts),
                    "units": sum(units),
                    "per_segment_units": units,
                },
                ensure_ascii=False,
                separators=(",", ":"),
            )
        )
        out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
