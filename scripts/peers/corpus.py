#!/usr/bin/env python3
"""Writes the two corpora of the peer benchmark (issue 19): gsm7.jsonl and ucs2.jsonl.

Each line is one JSON object, {"text": "..."}, a notice of the kind class studios, schools,
churches and real-estate offices send: 1-6 sentences with names, times, prices and links,
40-480 characters, and a few long ones (up to about 900) so multi-segment texts occur.

gsm7.jsonl is pure GSM-7 (with the occasional extension-table character: [ ] { } € ~ ^ | \\);
every line of ucs2.jsonl carries at least one of emoji (with skin tones, flags, ZWJ sequences),
curly quotes, em dashes or accents outside GSM-7. A few percent of the lines of both contain
what the compliance lint reacts to: a bit.ly link, "final notice", a sentence in capitals.
Some end with "Reply STOP to opt out."

Deterministic: the same seed writes byte-identical files (the sha256 is printed to check).
Standard library only.

Usage: corpus.py OUTDIR [--bytes N] [--seed N]
"""

import argparse
import hashlib
import json
import os
import random
import sys

# GSM 03.38 default alphabet (without the escape) and its extension table.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("^{}\\[~]|€\f")


def is_gsm(text):
    return all(c in GSM_BASIC or c in GSM_EXTENSION for c in text)


FIRST_NAMES = [
    "Ana", "Liam", "Olivia", "Noah", "Emma", "Mateo", "Sophia", "Jack", "Mia", "Lucas", "Zoe",
    "Ava", "Ethan", "Isabella", "Mason", "Harper", "Elijah", "Amelia", "James", "Aria", "Benjamin",
    "Chloé", "José", "Søren", "Björn", "Jürgen", "Renée", "Begoña", "Åsa", "Priya", "Kenji", "Fatima",
    "Dmitri", "Grace", "Owen", "Nora", "Leo", "Hannah", "Sam", "Maya", "Daniel", "Ruth",
]
# Names and words outside GSM-7 (only in ucs2.jsonl).
UCS_NAMES = [
    "Zoë", "Łukasz", "Mikołaj", "Gergő", "Ştefan", "Nikolić", "Chloë", "Māui", "Ōtani", "Dương",
    "Åsa-Läïs", "Žofia", "Čeněk", "Bartłomiej", "Joëlle", "Íñigo", "Ana-María", "Siân", "Zsófia",
]
UCS_WORDS = [
    ("cafe", "café au lait"), ("creme", "crème brûlée"), ("Lodz", "Łódź"), ("Malmo", "Malmö"),
    ("naive", "naïve"), ("Sao Paulo", "São Paulo"), ("Cluj", "Cluj-Napoca (Ştefan's group)"),
]

TEACHERS = [
    "Ms. Rivera", "Coach Dan", "Pastor Mike", "Sensei Okafor", "Mrs. Lee", "Mr. Patel", "Miss Jo",
    "Pastor Ruth", "Coach Kim", "Ms. Novak", "Father Tom", "Mr. Haddad", "Dr. Brooks",
]
TIMES = [
    "5:30pm", "9am", "10:15 AM", "7 pm", "6:45pm", "8:00 AM", "noon", "4pm", "11:30am", "7:15 PM",
    "3:20pm", "9:30", "6pm", "10am",
]
DAYS = [
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "tomorrow",
    "tonight", "this Saturday", "next Tuesday", "Sunday morning",
]
DATES = ["Dec 12", "12/14", "Jan 3rd", "March 8", "Oct 31", "5/17", "June 2", "Sept 9th", "Nov 21"]
PRICES = [
    "$15", "$120.00", "$1,240", "$45", "$8", "$250", "$19.99", "$75/month", "$2,150", "$30", "$5",
]
ROOMS = [
    "Studio B", "Room 12", "the fellowship hall", "Court 3", "the gym", "the main sanctuary",
    "Pool lane 4", "the library", "the cafeteria", "Studio A (upstairs)", "the parish hall",
]
ADDRESSES = [
    "42 Elm St.", "1187 Oak Ave, Unit 4", "9 Harbor View Dr", "310 Maple Ct", "77 Lakeshore Blvd #2",
    "5 Cedar Ln", "2401 W Main St", "18 Church Rd",
]
PHONES = ["(555) 010-2000", "555-0147", "(555) 013-8820", "555-0199", "555.010.4477"]
LINKS = {
    "studio": ["https://studio.example.org/book?c={n}", "https://app.example.com/s/{n}?ref=sms", "example.org/schedule"],
    "school": ["www.example.edu/calendar", "https://portal.example.com/pay", "https://forms.example.com/r/{n}"],
    "church": ["https://example.church/give", "example.church/events", "https://forms.example.com/r/{n}"],
    "realestate": ["https://homes.example.com/l/{n}", "https://portal.example.com/pay", "https://app.example.com/s/{n}?ref=sms"],
}
ORGS = {
    "studio": [
        "Sunrise Yoga", "Bella Dance Academy", "Iron Tiger Karate", "Blue Wave Swim School",
        "Harmony Music Studio", "Summit Climbing", "Core Pilates", "Little Picassos Art Club",
    ],
    "school": [
        "Lincoln Elementary", "Oakridge Middle School", "St. Mary's Academy", "Westside PTA",
        "Riverside High Athletics", "Maple Grove Preschool",
    ],
    "church": [
        "Grace Community Church", "St. Joseph Parish", "New Hope Fellowship", "First Baptist Youth",
        "Temple Beth Shalom", "Holy Trinity",
    ],
    "realestate": [
        "Harbor Realty", "Keystone Homes", "Bluebird Property Management", "Northside Realtors",
        "Cornerstone Rentals",
    ],
}
SENTENCES = {
    "studio": [
        "Class today at {time} is canceled due to weather.",
        "Reminder: your {time} class with {teacher} is {day} in {room}.",
        "We have 3 spots left in {day}'s {time} workshop, {price} per person.",
        "Tuition for December is due on the 1st. Pay online at {link}",
        "Your 10-class pass expires {date}; renew for {price} at {link}",
        "The recital is {date} at {time}. Costumes are {price} each, payable at the front desk.",
        "Please bring water and a towel, and arrive 10 minutes early.",
        "{teacher} is out sick, so {teacher} will cover the {time} class.",
        "Don't forget: no class on {date} for the holiday.",
        "Book your spot at {link} before it fills up.",
        "Our new schedule starts {day}. See it at {link}",
        "Belt testing is {date} at {time}; the fee is {price}.",
        "Swim lessons move to {room} this week only.",
        "Parking lot is being repaved, please use the street entrance.",
        "We're adding a {time} class on {day}s starting {date}!",
        "Your card ending in 4421 was declined for {price}. Please update it at {link}",
        "Thanks for coming to the open house - we loved meeting everyone!",
        "Friends train free this week, just tell us their name at check-in.",
        "The studio will close early at {time} {day}.",
        "Waitlist update: a spot opened in {day}'s {time} class. Reply YES within 2 hours to claim it.",
    ],
    "school": [
        "Picture day is {day}; please arrive 15 minutes early.",
        "School is closed {day} due to snow. Stay safe!",
        "Early dismissal {day} at {time}. Buses run 2 hours early.",
        "The field trip to the science museum is {date}. Permission slips and {price} are due {day}.",
        "Report cards are posted at {link}",
        "Practice moved to {room} for this week only.",
        "Thank you for volunteering at the bake sale - we raised {price}!",
        "Lunch balance is low ({price}). Add funds at {link}",
        "Parent-teacher conferences are {date} from {time} to {time}. Sign up at {link}",
        "{first} was absent today. Please call the office at {phone}.",
        "The book fair is open {day} through Friday in {room}.",
        "Varsity game vs. Central is {day} at {time}. Go Lions!",
        "Please label all coats and lunch boxes with your child's name.",
        "Spring concert tickets are {price} at the door.",
        "The lost and found will be donated on {date}.",
        "Yearbook orders close {date}: {price} at {link}",
        "Pickup is at the north gate today because of construction.",
        "Our \"Read-a-thon\" starts {day}. Log minutes at {link}",
        "Flu shots are offered in {room} on {date}; forms at {link}",
    ],
    "church": [
        "Choir rehearsal starts at {time} in {room}; snacks provided.",
        "Join us {day} at {time} for worship. Everyone is welcome.",
        "The food pantry needs canned vegetables and rice this week.",
        "Youth group meets {day} at {time} in {room}.",
        "Prayer meeting is moved to {day} at {time}.",
        "Thank you for your generosity! Give online at {link}",
        "The potluck is {date} after the {time} service. Bring a dish to share.",
        "Volunteers needed for the coat drive on {date}. Call {phone}.",
        "Bible study with {teacher} resumes {day} at {time}.",
        "The Christmas Eve services are at {time} and {time}.",
        "Please keep the {first} family in your prayers this week.",
        "Our sermon series \"Rooted\" begins {day}.",
        "Parking is limited {day}, so please carpool if you can.",
        "The nursery is open during the {time} service for ages 0-4.",
        "Retreat registration ({price}) closes {date}: {link}",
    ],
    "realestate": [
        "Showing at {address} has moved to {time}. Text back with questions.",
        "Open house {day} from {time} to {time} at {address}.",
        "New listing: 3 bd / 2 ba at {address}, {price}k. Photos: {link}",
        "Price drop on {address}, now {price}k!",
        "Rent of {price} is due on the 1st. Pay at {link}",
        "Maintenance will enter unit 4B on {date} between {time} and {time}.",
        "Your offer on {address} was accepted. Congratulations!",
        "The inspection is {day} at {time}; I'll meet you there.",
        "Water will be shut off {day} from {time} to {time} for repairs.",
        "Closing is set for {date} at {time} at the title office.",
        "Please sign the disclosures at {link} by {day}.",
        "Your lease renews on {date}. Reply RENEW or call {phone}.",
        "The HOA meeting is {date} at {time} in the clubhouse.",
        "Appraisal came in at {price}k, right on target.",
    ],
}
GREETINGS = ["Hi {first},", "Hello {first}!", "{org}:", "Hi everyone,", "Dear parents,", "Hey {first}!", "{org} -"]
SIGNOFFS = ["- {teacher}", "Thanks!", "See you soon!", "Thank you, {org}", "Questions? Call {phone}.", "Blessings, {teacher}", "- {org}"]
# Occasional extension-table characters, the way notices use them.
EXTENSION_SENTENCES = [
    "Use the side door [east entrance] after {time}.",
    "Drop-in fee is €12, or {price} for the month.",
    "The drive takes ~45 min, so leave early.",
    "Pickup: Gate A | Gate B for grades 3-5.",
    "Wi-Fi password: {Spring2026}",
    "Forms are in the shared folder Forms\\2026\\Spring.",
    "Level 2^ students stay for 15 more minutes.",
    "Bring [optional] a yoga mat and {price} for the snack fund.",
]
FINAL_NOTICE = [
    "FINAL NOTICE: your balance of {price} is past due.",
    "This is a final notice about unpaid tuition of {price}.",
    "Final notice: return the signed form by {day} or {first} cannot attend.",
]
OPT_OUT = ["Reply STOP to opt out.", "Reply STOP to unsubscribe.", "Txt STOP to opt out", "Msg&data rates may apply. Reply STOP to opt out."]

EMOJI = ["🎉", "😀", "👍", "❤️", "✨", "🙏", "📅", "⏰", "🏠", "🎶", "🧘", "🩰", "🥋", "🏊", "⛪", "📚", "🍎", "☀️", "❄️", "🎄", "🔑", "😊"]
SKIN_TONES = ["👍🏽", "👋🏻", "🙏🏾", "💪🏼", "👏🏿", "🙌🏽", "🤸🏻‍♀️"]
FLAGS = ["🇺🇸", "🇲🇽", "🇵🇱", "🇦🇺", "🇬🇧", "🇨🇦", "🇩🇪", "🇭🇺", "🇺🇦", "🇧🇷"]
ZWJ = ["👨‍👩‍👧", "👨‍👩‍👧‍👦", "👩‍👩‍👦", "👨‍👧", "🧑‍🤝‍🧑", "👩‍🏫", "🏳️‍🌈", "👩🏽‍🏫"]


class Generator:
    def __init__(self, seed, ucs2):
        self.random = random.Random(seed)
        self.ucs2 = ucs2

    def pick(self, items):
        return self.random.choice(items)

    def fill(self, template, org, sector):
        out = template
        # Replace one slot at a time so repeated slots get different values.
        slots = {
            "{first}": lambda: self.pick(FIRST_NAMES),
            "{teacher}": lambda: self.pick(TEACHERS),
            "{time}": lambda: self.pick(TIMES),
            "{day}": lambda: self.pick(DAYS),
            "{date}": lambda: self.pick(DATES),
            "{price}": lambda: self.pick(PRICES),
            "{room}": lambda: self.pick(ROOMS),
            "{address}": lambda: self.pick(ADDRESSES),
            "{phone}": lambda: self.pick(PHONES),
            "{org}": lambda: org,
            "{link}": lambda: self.link(sector),
        }
        for slot, value in slots.items():
            while slot in out:
                out = out.replace(slot, value(), 1)
        return out

    def link(self, sector):
        if self.random.random() < 0.025:
            code = "".join(self.random.choice("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(7))
            return "https://bit.ly/" + code if self.random.random() < 0.5 else "bit.ly/" + code
        return self.pick(LINKS[sector]).replace("{n}", str(self.random.randrange(100, 99999)))

    def sentences(self, sector, org, count):
        """`count` different sentences of the sector; now and then one is a final notice or
        (GSM-7 only) one with extension-table characters."""
        r = self.random
        templates = SENTENCES[sector]
        picked = r.sample(templates, min(count, len(templates)))
        picked += [self.pick(templates) for _ in range(count - len(picked))]
        sentences = [self.fill(t, org, sector) for t in picked]
        if r.random() < 0.015:
            sentences[r.randrange(count)] = self.fill(self.pick(FINAL_NOTICE), org, sector)
        if not self.ucs2 and r.random() < 0.05:
            # Braces in "{Spring2026}" are text, not a slot.
            template = self.pick(EXTENSION_SENTENCES)
            extension = template if "{Spring2026}" in template else self.fill(template, org, sector)
            sentences.insert(r.randrange(count + 1), extension)
        return sentences

    def notice(self):
        r = self.random
        sector = self.pick(list(SENTENCES))
        org = self.pick(ORGS[sector])
        long = r.random() < 0.04
        count = r.randint(7, 14) if long else r.randint(1, 6)
        limit = 900 if long else 480
        sentences = self.sentences(sector, org, count)
        if r.random() < 0.025:
            # A sentence in capitals (kept only where capitals stay in the corpus's alphabet).
            index = r.randrange(len(sentences))
            shouted = sentences[index].upper()
            if self.ucs2 or is_gsm(shouted):
                sentences[index] = shouted
        greeting = self.fill(self.pick(GREETINGS), org, sector) if r.random() < 0.6 else None
        signoff = self.fill(self.pick(SIGNOFFS), org, sector) if r.random() < 0.35 else None
        opt_out = self.pick(OPT_OUT) if r.random() < 0.05 else None
        if self.ucs2:
            sentences = self.decorate(sentences)
            if greeting is not None and r.random() < 0.3:
                greeting = greeting.replace(",", " " + self.pick(EMOJI + SKIN_TONES) + ",", 1)

        def compose(body):
            separator = "\n\n" if r.random() < 0.1 else " "
            parts = [" ".join(body)]
            if greeting is not None:
                parts.insert(0, greeting + separator)
            if signoff is not None:
                parts.append(" " + signoff)
            if opt_out is not None:
                parts.append(" " + opt_out)
            return "".join(parts)

        text = compose(sentences)
        while len(text) > limit and len(sentences) > 1:
            sentences.pop()
            text = compose(sentences)
        while len(text) < 40:
            sentences += self.sentences(sector, org, 1)
            text = compose(sentences)
        if self.ucs2 and is_gsm(text):
            text += " " + self.pick(EMOJI)
        if is_gsm(text) == self.ucs2:
            raise AssertionError("a notice of the wrong alphabet: %r" % text)
        return text

    def decorate(self, sentences):
        """Adds what takes a message out of GSM-7: 1-3 of emoji, skin tones, flags, ZWJ
        sequences, curly quotes and apostrophes, em dashes, accents outside GSM-7."""
        r = self.random
        kinds = ["emoji", "emoji", "skin", "flag", "zwj", "apostrophe", "quotes", "dash", "name", "word"]
        for kind in r.sample(kinds, r.randint(1, 3)):
            index = r.randrange(len(sentences))
            s = sentences[index]
            if kind == "emoji":
                s = s + " " + self.pick(EMOJI)
            elif kind == "skin":
                s = s + " " + self.pick(SKIN_TONES)
            elif kind == "flag":
                s = s + " " + self.pick(FLAGS)
            elif kind == "zwj":
                s = self.pick(ZWJ) + " " + s if r.random() < 0.3 else s + " " + self.pick(ZWJ)
            elif kind == "apostrophe":
                sentences = [x.replace("'", "\u2019") for x in sentences]
                s = sentences[index] if "\u2019" in "".join(sentences) else s + " We\u2019re excited!"
            elif kind == "quotes":
                if '"' in s:
                    s = s.replace('"', "\u201c", 1).replace('"', "\u201d", 1)
                else:
                    s = s + " Theme: \u201c" + self.pick(["Grateful Hearts", "Bright Futures", "Home Sweet Home", "Dance Together", "Rooted"]) + "\u201d"
            elif kind == "dash":
                s = s.replace(" - ", " \u2014 ") if " - " in s else s.rstrip(".!") + " \u2014 see you there!"
            elif kind == "name":
                s = s + " Ask for " + self.pick(UCS_NAMES) + "."
            else:
                plain, fancy = self.pick(UCS_WORDS)
                s = s + " (" + fancy + ")"
            sentences[index] = s
        return sentences


def write_corpus(path, seed, ucs2, target_bytes):
    generator = Generator(seed, ucs2)
    digest = hashlib.sha256()
    size = 0
    lines = 0
    with open(path, "wb") as out:
        while size < target_bytes:
            line = (json.dumps({"text": generator.notice()}, ensure_ascii=False) + "\n").encode("utf-8")
            out.write(line)
            digest.update(line)
            size += len(line)
            lines += 1
    return size, lines, digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description="Write gsm7.jsonl and ucs2.jsonl for the peer benchmark.")
    parser.add_argument("outdir")
    parser.add_argument("--bytes", type=int, default=5_500_000, help="size of each corpus (default 5,500,000)")
    parser.add_argument("--seed", type=int, default=19, help="base seed (default 19)")
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    for name, ucs2, seed in (("gsm7.jsonl", False, args.seed * 1000 + 7), ("ucs2.jsonl", True, args.seed * 1000 + 2)):
        path = os.path.join(args.outdir, name)
        size, lines, sha = write_corpus(path, seed, ucs2, args.bytes)
        print(f"{name}  {size:,} bytes  {lines:,} lines  sha256 {sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
