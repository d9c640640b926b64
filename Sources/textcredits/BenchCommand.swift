import ArgumentParser
import CreditsServer

/// `textcredits bench …`: throughput measurements that print numbers (use a release build).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput (build with -c release).",
        subcommands: [SegmentsBench.self]
    )
}

/// `textcredits bench segments`.
struct SegmentsBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "segments", abstract: "Segmentation MB/s on GSM-7 and UCS-2 corpora.")

    @Option(help: "Seconds to run each corpus.") var seconds: Double = 2
    @Option(help: "Messages in each corpus.") var messages: Int = 20_000

    func run() throws {
        for figures in SegmentBenchmark.run(seconds: seconds, messages: messages) {
            let line = "\(figures.corpus): \(format(figures.megabytesPerSecond)) MB/s, \(format(figures.messagesPerSecond / 1000)) k messages/s "
                + "(\(figures.messages) messages, \(figures.bytes) bytes, \(figures.rounds) rounds in \(format(figures.seconds)) s)"
            print(line)
        }
    }
}

/// One decimal place, for benchmark output.
func format(_ value: Double) -> String {
    let scaled = (value * 10).rounded() / 10
    return String(scaled)
}
