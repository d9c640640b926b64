import CreditsCore
import CreditsStore
import Foundation
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
            // More than one statement's worth (512), so the write is split.
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
            let notes = DeliveryNotes(store: simulator, now: { Date() })
            let counting = CountingDatabase(database)
            let counted = DeliveryNotes(store: SimulatorStore(database: counting), now: { Date() })
            for message in messages.prefix(650) { await notes.add(message.providerID) }
            for message in messages.suffix(50) { await counted.add(message.providerID) }
            let deadline = ContinuousClock.now + .seconds(10)
            while try await !simulator.pending(limit: 10_000).isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await simulator.pending(limit: 10_000).isEmpty, "every note written")
            #expect(counting.transactions <= 2, "fifty notes added together: one write, not fifty")
        }
    }
}
