import CreditsCore
import Foundation

/// Measures segmentation throughput on realistic message corpora (`textcredits bench segments`).
public enum SegmentBenchmark {
    /// The figures of one corpus.
    public struct Figures: Sendable {
        public var corpus: String
        public var messages: Int
        public var bytes: Int
        public var rounds: Int
        public var seconds: Double
        /// Megabytes (10^6 bytes of UTF-8) segmented per second.
        public var megabytesPerSecond: Double { Double(bytes * rounds) / seconds / 1_000_000 }
        /// Messages segmented per second.
        public var messagesPerSecond: Double { Double(messages * rounds) / seconds }
    }

    /// Runs both corpora for at least `seconds` each, segmenting only and then estimating in full
    /// (segments, compliance lint, smart-encoding report and UCS-2 cost note), and returns the figures.
    public static func run(seconds: Double = 2, messages: Int = 20_000) -> [Figures] {
        let gsm = corpus(ucs2: false, count: messages)
        let ucs2 = corpus(ucs2: true, count: messages)
        let options = EstimateOptions()
        let estimate: (String) -> Int = { text in (try? Estimator.estimate(body: text, options: options))?.units ?? 0 }
        return [
            measure("GSM-7", corpus: gsm, seconds: seconds) { Segmenter.segment($0).units },
            measure("UCS-2", corpus: ucs2, seconds: seconds) { Segmenter.segment($0).units },
            measure("GSM-7 estimate (lint, smart-encoding report)", corpus: gsm, seconds: seconds, estimate),
            measure("UCS-2 estimate (lint, smart-encoding report)", corpus: ucs2, seconds: seconds, estimate),
        ]
    }

    static func measure(_ name: String, corpus: [String], seconds: Double, _ work: (String) -> Int) -> Figures {
        let bytes = corpus.reduce(0) { $0 + $1.utf8.count }
        let clock = ContinuousClock()
        var rounds = 0
        var checksum = 0
        let start = clock.now
        var elapsed = Duration.zero
        while rounds < 3 || elapsed < .milliseconds(Int(seconds * 1000)) {
            for text in corpus { checksum &+= work(text) }
            rounds += 1
            elapsed = clock.now - start
        }
        precondition(checksum != 0, "the benchmark must not be optimised away")
        return Figures(corpus: name, messages: corpus.count, bytes: bytes, rounds: rounds, seconds: elapsed.seconds)
    }

    /// Messages of the kind class studios, schools and churches send: 40 to 480 characters,
    /// names, times, links; the UCS-2 corpus adds emoji, curly quotes and non-GSM accents.
    static func corpus(ucs2: Bool, count: Int) -> [String] {
        var random = SeededGenerator(seed: ucs2 ? 2 : 1)
        let names = ["Ana", "Liam", "Olivia", "Noah", "Émile", "Sophia", "Jack", "Mia", "Lucas", ucs2 ? "Zoë" : "Zoe"]
        let sentences = [
            "Hi {name}, class today at 5:30pm is canceled due to weather.",
            "Reminder: picture day is Friday; please arrive 15 minutes early.",
            "Tuition for December is due on the 1st. Pay online at https://portal.example.com/pay",
            "Our open house is Saturday from 10am to 2pm. Bring a friend!",
            "The gym will be closed Monday for the holiday. See you Tuesday.",
            "Practice moved to Court 3 [east entrance] for this week only.",
            "Thank you for volunteering at the bake sale - we raised $1,240!",
            "Choir rehearsal starts at 7pm in the fellowship hall; snacks provided.",
            "Reply YES to confirm your spot, or call the office at (555) 010-2000.",
            "Showing at 42 Elm St. has moved to 3pm. Text back with questions.",
        ]
        let unicodeExtras = [" 🎉", " 😀", " it’s", " “great”", " ça va", " 👍🏽", " — ", " naïve", " 🇦🇺", " ✨"]
        var corpus: [String] = []
        corpus.reserveCapacity(count)
        for _ in 0..<count {
            let sentenceCount = Int.random(in: 1...6, using: &random)
            var text = ""
            for index in 0..<sentenceCount {
                if index > 0 { text += " " }
                let name = names[Int.random(in: 0..<names.count, using: &random)]
                text += sentences[Int.random(in: 0..<sentences.count, using: &random)].replacingOccurrences(
                    of: "{name}",
                    with: name
                )
                if ucs2 && (index == 0 || Bool.random(using: &random)) {
                    text += unicodeExtras[Int.random(in: 0..<unicodeExtras.count, using: &random)]
                }
            }
            precondition(GSM7.canEncode(text) != ucs2, "each corpus holds only its own encoding")
            corpus.append(text)
        }
        return corpus
    }
}
