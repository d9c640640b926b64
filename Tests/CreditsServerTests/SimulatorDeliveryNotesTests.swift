import CreditsAdapters
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

    /// Texts the Simulator accepted, whose callbacks are still to be noted.
    static func messages(_ name: String, count: Int) -> [SimulatedMessage] {
        (0..<count).map { index in
            SimulatedMessage(
                reference: "msg_\(name)\(index)",
                providerID: "SM\(name)\(index)",
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
    }

    /// `count` texts the Simulator accepted (`messages(_:count:)`), in the database.
    static func accepted(_ name: String, count: Int, on database: any Database) async throws
        -> (SimulatorStore, [SimulatedMessage])
    {
        let simulator = SimulatorStore(database: database)
        let messages = SimulatorDeliveryNotesTests.messages(name, count: count)
        _ = try await simulator.accept(messages, at: Date())
        return (simulator, messages)
    }

    @Test(arguments: stores)
    func notesOfDeliveredCallbacksAreWrittenInBatches(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            // More than one statement's worth (512).
            let (simulator, messages) = try await SimulatorDeliveryNotesTests.accepted("note", count: 700, on: database)
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

    /// A Simulator that stops writes its notes before it returns, so the server closes the
    /// database after them: before, the last tenth's notes were written after the close and
    /// failed ("misuse"), and those callbacks went again at the next start.
    @Test(arguments: stores)
    func flushWritesEveryNoteBeforeItReturns(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let (simulator, messages) = try await SimulatorDeliveryNotesTests.accepted(
                "flush",
                count: 600,
                on: database
            )
            let log = SimulatorDatabaseLog(store: simulator, now: { Date() }, logger: Logger(label: "test"))
            for message in messages { try await log.callbackDelivered(providerID: message.providerID) }
            await log.flush()
            #expect(try await simulator.pending(limit: 10_000).isEmpty, "every note written when flush returns")
            // Nothing left to write: a second flush returns at once, and a note added after it is
            // written as usual.
            await log.flush()
            _ = try await simulator.accept(
                SimulatorDeliveryNotesTests.messages("flush_late", count: 1),
                at: Date()
            )
            try await log.callbackDelivered(providerID: "SMflush_late0")
            await log.flush()
            #expect(try await simulator.pending(limit: 10_000).isEmpty)
        }
    }

    /// The Simulator's run ends with the flush: once it returns (the server then closes the
    /// database), every note added before is written.
    @Test(arguments: stores)
    func aStoppedSimulatorHasWrittenItsNotes(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let (simulator, messages) = try await SimulatorDeliveryNotesTests.accepted("stop", count: 300, on: database)
            let logger = Logger(label: "test")
            let log = SimulatorDatabaseLog(store: simulator, now: { Date() }, logger: logger)
            let provider = SimulatorProvider(authToken: "token", log: log, logger: logger)
            let running = Task { await provider.run() }
            for message in messages { try await log.callbackDelivered(providerID: message.providerID) }
            running.cancel()
            await running.value
            #expect(try await simulator.pending(limit: 10_000).isEmpty, "every note written when run returns")
        }
    }
}
