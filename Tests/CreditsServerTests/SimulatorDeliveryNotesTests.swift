import CreditsCore
import CreditsStore
import Foundation
import Logging
import TestSupport
import Testing

@testable import CreditsServer

/// The Simulator notes each callback that reached the server, so a restart does not send it
/// again. The notes are written a tenth of a second at a time and a callback does not wait for
/// its own (a repeat is harmless: a report already applied changes nothing), which takes the
/// notes' write transactions, one every few milliseconds during a big send, off the write lock
/// that settlements wait for.
@Suite struct SimulatorDeliveryNotesTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func notesOfDeliveredCallbacksAreWrittenInBatches(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let simulator = SimulatorStore(database: database)
            // More than one statement's worth (512).
            let messages = (0..<700).map { index in
                SimulatedMessage(
                    reference: "msg_note\(index)",
                    providerID: "SMnote\(index)",
                    from: "+14155550100",
                    to: "+14155550181",
                    body: "Hi",
                    outcome: .delivered,
                    errorCode: nil,
                    segments: 1,
                    statusCallback: "http://127.0.0.1:1/webhooks/simulator/status",
                    attempts: 1
                )
            }
            _ = try await simulator.accept(messages, at: Date())
            #expect(try await simulator.pending(limit: 10_000).count == 700)
            let logger = Logger(label: "test")
            let notes = DeliveryNotes(store: simulator, now: { Date() }, logger: logger)
            let counting = CountingDatabase(database)
            let counted = DeliveryNotes(store: SimulatorStore(database: counting), now: { Date() }, logger: logger)
            for message in messages.prefix(650) { await notes.add(message.providerID) }
            for message in messages.suffix(50) { await counted.add(message.providerID) }
            let deadline = ContinuousClock.now + .seconds(10)
            while try await !simulator.pending(limit: 10_000).isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await simulator.pending(limit: 10_000).isEmpty, "every note written")
            // One write in the usual case; a few if this machine stalls between the adds. Waiting
            // for each note, as the Simulator did, costs one each.
            #expect(counting.transactions <= 5, "fifty notes added together: one write, not fifty")
        }
    }
}
