#!/usr/bin/env python3
"""Times `textcredits estimate --jsonl` against its peers on the corpora of corpus.py (issue 19).

Called by peers.sh, which generates the corpora and installs the peers. Each program is a whole
process that reads a corpus as JSON lines on standard input and writes one JSON line per input
line to a file; rounds are interleaved (textcredits, smsutil, Twilio's calculator, then again),
timed with time.perf_counter, and the median round counts. MB/s = corpus bytes read / seconds,
with MB = 1,000,000 bytes. Standard library only.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPORA = [("GSM-7", "gsm7.jsonl", 8.0), ("UCS-2", "ucs2.jsonl", 3.0)]


class Peer:
    def __init__(self, name, command, env=None, sample_lines=None):
        self.name = name
        self.command = command
        self.env = env
        self.sample_lines = sample_lines  # None: the whole corpus
        self.seconds = {}  # corpus name -> [seconds per round]
        self.bytes = {}  # corpus name -> bytes read per round
        self.lines = {}  # corpus name -> lines read per round


def fail(message):
    print("peers: " + message, file=sys.stderr)
    sys.exit(1)


def prefix(path, lines, target):
    """Writes the first `lines` lines of `path` to `target`; returns (bytes, lines)."""
    size = 0
    count = 0
    with open(path, "rb") as source, open(target, "wb") as out:
        for line in source:
            if count == lines:
                break
            out.write(line)
            size += len(line)
            count += 1
    return size, count


def run_once(peer, corpus_name, input_path, output_path, expected_lines):
    with open(input_path, "rb") as stdin, open(output_path, "wb") as stdout:
        start = time.perf_counter()
        done = subprocess.run(peer.command, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, env=peer.env)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        fail(f"{peer.name} exited with {done.returncode} on {corpus_name}: {done.stderr.decode(errors='replace')[-2000:]}")
    with open(output_path, "rb") as out:
        produced = sum(1 for _ in out)
    if produced != expected_lines:
        fail(f"{peer.name} wrote {produced:,} lines for the {expected_lines:,} lines of {corpus_name} ({output_path})")
    return seconds


def read_answers(path, peer_name, corpus_name):
    answers = []
    with open(path, "rb") as out:
        for number, line in enumerate(out, 1):
            answer = json.loads(line)
            if "error" in answer or "segments" not in answer or "encoding" not in answer:
                fail(f"{peer_name} answered line {number} of {corpus_name} with {line[:300]!r}")
            answers.append((answer["encoding"], answer["segments"]))
    return answers


def version_of(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unknown ({error})"
    said = (done.stdout or done.stderr).strip()
    return said.splitlines()[0] if said else "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mbps(size, seconds):
    return size / seconds / 1e6


def figure(value):
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--textcredits", required=True)
    parser.add_argument("--corpora", required=True, help="folder with gsm7.jsonl and ucs2.jsonl")
    parser.add_argument("--work", required=True, help="folder for the outputs")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--smsutil-python", help="Python with smsutil installed (omit to skip smsutil)")
    parser.add_argument("--smsutil-skipped", default="", help="why smsutil is skipped")
    parser.add_argument("--twilio-node-path", help="node_modules with sms-segments-calculator (omit to skip)")
    parser.add_argument("--twilio-skipped", default="", help="why Twilio's calculator is skipped")
    parser.add_argument("--twilio-note", default="", help="where Twilio's calculator came from, when not npm")
    parser.add_argument("--sample-lines", type=int, default=2000,
                        help="Twilio's calculator reads the first N lines (it is ~20x slower); the agreement check uses them too")
    args = parser.parse_args()
    if args.rounds < 1:
        fail("--rounds must be at least 1")

    peers = [Peer("textcredits", [args.textcredits, "estimate", "--jsonl"])]
    smsutil_version = twilio_version = None
    if args.smsutil_python:
        peers.append(Peer("smsutil", [args.smsutil_python, os.path.join(HERE, "peer_smsutil.py")]))
        smsutil_version = version_of(
            [args.smsutil_python, "-c", "from smsutil.__version__ import __version__; print(__version__)"]
        )
    if args.twilio_node_path:
        env = dict(os.environ, NODE_PATH=args.twilio_node_path)
        peers.append(Peer("twilio", ["node", os.path.join(HERE, "peer_twilio.js")], env, args.sample_lines))
        try:
            with open(os.path.join(args.twilio_node_path, "sms-segments-calculator", "package.json")) as package:
                twilio_version = json.load(package)["version"]
        except (OSError, ValueError, KeyError):
            twilio_version = "unknown"

    textcredits_version = version_of([args.textcredits, "--version"])
    node_version = version_of(["node", "--version"]) if args.twilio_node_path else "not used"
    python = [args.smsutil_python] if args.smsutil_python else [sys.executable]
    python_version = version_of(python + ["--version"]).replace("Python ", "")
    print(
        f"machine: {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}, "
        f"{platform.system()} {platform.release()}; python {python_version}, "
        f"node {node_version}"
    )
    print(
        f"programs: textcredits {textcredits_version} ({args.textcredits}); "
        + (f"smsutil {smsutil_version}" if smsutil_version else f"smsutil skipped ({args.smsutil_skipped or 'not given'})")
        + "; "
        + (
            f"sms-segments-calculator {twilio_version}" + (f" ({args.twilio_note})" if args.twilio_note else "")
            if twilio_version
            else f"Twilio's calculator skipped ({args.twilio_skipped or 'not given'})"
        )
    )

    os.makedirs(args.work, exist_ok=True)
    inputs = {}  # (corpus, peer) -> (path, bytes, lines)
    for corpus_name, file_name, _ in CORPORA:
        path = os.path.join(args.corpora, file_name)
        size = os.path.getsize(path)
        with open(path, "rb") as corpus:
            lines = sum(1 for _ in corpus)
        sample_path = os.path.join(args.work, file_name.replace(".jsonl", f".first{args.sample_lines}.jsonl"))
        sample = prefix(path, args.sample_lines, sample_path)
        for peer in peers:
            inputs[(corpus_name, peer.name)] = (sample_path, *sample) if peer.sample_lines else (path, size, lines)
    print(
        f"method: {args.rounds} interleaved rounds per corpus ({' → '.join(p.name for p in peers)}), each a whole "
        "process reading the corpus on stdin and writing one JSON line per line to a file; median round; "
        "MB = 10^6 bytes of JSONL read"
    )
    sys.stdout.flush()

    for corpus_name, file_name, _ in CORPORA:
        for _ in range(args.rounds):
            for peer in peers:
                path, size, lines = inputs[(corpus_name, peer.name)]
                output = os.path.join(args.work, f"{file_name}.{peer.name}.out")
                seconds = run_once(peer, corpus_name, path, output, lines)
                peer.seconds.setdefault(corpus_name, []).append(seconds)
                peer.bytes[corpus_name] = size
                peer.lines[corpus_name] = lines

    by_name = {peer.name: peer for peer in peers}
    header = ["corpus", "bytes", "lines", "textcredits MB/s", "smsutil MB/s", "twilio MB/s", "textcredits/smsutil", "target", ""]
    rows = []
    for corpus_name, file_name, target in CORPORA:
        textcredits = by_name["textcredits"]
        size = textcredits.bytes[corpus_name]
        rates = {
            peer.name: mbps(peer.bytes[corpus_name], statistics.median(peer.seconds[corpus_name])) for peer in peers
        }
        ratio = rates["textcredits"] / rates["smsutil"] if "smsutil" in rates else None
        rows.append(
            [
                corpus_name,
                f"{size:,}",
                f"{textcredits.lines[corpus_name]:,}",
                figure(rates["textcredits"]),
                figure(rates["smsutil"]) if "smsutil" in rates else "skipped",
                figure(rates["twilio"]) + "*" if "twilio" in rates else "skipped",
                f"{ratio:.1f}×" if ratio is not None else "—",
                f"≥ {target:.0f}×",
                ("met" if ratio >= target else "not met") if ratio is not None else "",
            ]
        )
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    print()
    for row in [header] + rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    if "twilio" in by_name:
        twilio = by_name["twilio"]
        print(
            "* Twilio's calculator on the first "
            + " and ".join(f"{twilio.lines[c]:,} lines ({twilio.bytes[c]:,} bytes) of {c}" for c, _, _ in CORPORA)
            + "; its MB/s counts those bytes."
        )
    print()
    print("rounds (MB/s, in order):")
    for corpus_name, _, _ in CORPORA:
        for peer in peers:
            figures = " ".join(figure(mbps(peer.bytes[corpus_name], s)) for s in peer.seconds[corpus_name])
            print(f"  {corpus_name}  {peer.name:<11}  {figures}")

    # Agreement on segment counts, from the last round's outputs.
    print()
    print(f"agreement on encoding and segments (last round's outputs; the first {args.sample_lines:,} lines are read by all):")
    for corpus_name, file_name, _ in CORPORA:
        answers = {
            peer.name: read_answers(os.path.join(args.work, f"{file_name}.{peer.name}.out"), peer.name, corpus_name)
            for peer in peers
        }
        mine = answers["textcredits"]
        intended = "GSM-7" if corpus_name == "GSM-7" else "UCS-2"
        in_alphabet = sum(1 for encoding, _ in mine if encoding == intended)
        parts = [f"textcredits says {intended} on {in_alphabet:,}/{len(mine):,} lines"]
        sample = min(args.sample_lines, len(mine))
        for name in ("smsutil", "twilio"):
            if name not in answers:
                continue
            theirs = answers[name]
            same_sample = sum(1 for a, b in zip(mine[:sample], theirs[:sample]) if a == b)
            text = f"= {name} on {same_sample:,}/{sample:,}"
            if len(theirs) == len(mine) and len(mine) > sample:
                same_all = sum(1 for a, b in zip(mine, theirs) if a == b)
                text += f" (all lines: {same_all:,}/{len(mine):,})"
            parts.append(text)
        if len(answers) == 3:
            all_three = sum(
                1 for a, b, c in zip(mine[:sample], answers["smsutil"][:sample], answers["twilio"][:sample]) if a == b == c
            )
            parts.append(f"all three agree on {all_three:,}/{sample:,}")
        print(f"  {corpus_name}: " + "; ".join(parts))
        # A few disagreements, to see what they are.
        shown = 0
        with open(os.path.join(args.corpora, file_name), "rb") as corpus:
            texts = [json.loads(line)["text"] for _, line in zip(range(sample), corpus)]
        for index in range(sample):
            verdicts = {name: answers[name][index] for name in answers if index < len(answers[name])}
            if len(set(verdicts.values())) > 1 and shown < 3:
                shown += 1
                said = ", ".join(f"{name} {encoding}/{segments}" for name, (encoding, segments) in verdicts.items())
                print(f"    line {index + 1} ({len(texts[index])} characters): {said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
