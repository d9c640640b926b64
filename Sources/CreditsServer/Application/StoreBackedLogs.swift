import CreditsAdapters
import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Logging

/// The Sandbox gateway's record of charges, in the server's database.
struct SandboxDatabaseLog: SandboxChargeLog {
    let store: BillingStore
    let now: @Sendable () -> Date

    func record(_ outcome: SandboxChargeOutcome) async throws -> SandboxChargeOutcome {
        let stored = try await store.recordSandboxCharge(
            BillingStore.SandboxCharge(
                idempotencyKey: outcome.idempotencyKey,
                amountCents: outcome.amountCents,
                paymentMethod: outcome.paymentMethodToken,
                chargeID: outcome.chargeID,
                errorKind: outcome.error?.kind.rawValue,
                errorCode: outcome.error?.code,
                errorMessage: outcome.error?.message
            ),
            at: now()
        )
        return SandboxDatabaseLog.outcome(stored)
    }

    func find(_ idempotencyKey: String) async throws -> SandboxChargeOutcome? {
        try await store.sandboxCharge(idempotencyKey).map(SandboxDatabaseLog.outcome)
    }

    static func outcome(_ stored: BillingStore.SandboxCharge) -> SandboxChargeOutcome {
        let error = stored.errorKind.map { kind in
            PaymentError(
                kind: PaymentError.Kind(rawValue: kind) ?? .declined,
                code: stored.errorCode ?? kind,
                message: stored.errorMessage ?? ""
            )
        }
        return SandboxChargeOutcome(
            idempotencyKey: stored.idempotencyKey,
            amountCents: stored.amountCents,
            paymentMethodToken: stored.paymentMethod,
            chargeID: stored.chargeID,
            error: error
        )
    }
}

/// The Simulator's log in the server's database; concurrent calls are grouped into batches.
struct SimulatorDatabaseLog: SimulatorLog {
    let store: SimulatorStore
    let now: @Sendable () -> Date
    let accepts: GroupCommit<Int, SimulatedMessage, SimulatedMessage>
    let deliveries: DeliveryNotes

    init(store: SimulatorStore, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.now = now
        self.accepts = GroupCommit(batchSizeMax: 512) { _, rows in try await store.accept(rows, at: now()) }
        self.deliveries = DeliveryNotes(store: store, now: now, logger: logger)
    }

    func accept(_ message: SimulatedMessage) async throws -> SimulatedMessage {
        try await accepts.submit(message, key: 0)
    }

    func callbackDelivered(providerID: String) async throws { await deliveries.add(providerID) }

    func flush() async { await deliveries.flush() }

    func pendingCallbacks(limit: Int) async throws -> [SimulatedMessage] { try await store.pending(limit: limit) }

    func media(_ sha256: String) async throws -> [UInt8]? {
        try await MediaStore(database: store.database).bytes(sha256).map { [UInt8]($0) }
    }

    func acceptCall(_ call: SimulatedCall) async throws -> (SimulatedCall, fresh: Bool) {
        try await store.acceptCall(call, at: now())
    }

    func callFinished(providerID: String) async throws { try await store.callFinished(providerID: providerID) }

    func pendingCalls(limit: Int) async throws -> [SimulatedCall] { try await store.pendingCalls(limit: limit) }

    func keepMedia(_ bytes: [UInt8], kind: MediaKind) async throws -> String {
        let digest = MediaService.digest(Data(bytes))
        try await MediaStore(database: store.database).saveBytes(Data(bytes), sha256: digest, kind: kind, at: now())
        return digest
    }
}

/// The Simulator's notes that a callback reached the server, written a tenth of a second at a
/// time. A note only keeps a restart from sending that callback again, and a repeat is harmless
/// (a report already applied changes nothing), so a callback does not wait for its note, and the
/// notes of a busy tenth cost one write transaction instead of one every few milliseconds on
/// the write lock that settlements wait for. Notes not yet written when the process stops (at
/// most the last tenth's), or whose write failed (logged), mean those callbacks go once more
/// after the next start. A Simulator that stops writes its notes before it returns
/// (`flush`), so a graceful stop leaves none behind and none is written after the database
/// closed.
actor DeliveryNotes {
    let store: SimulatorStore
    let now: @Sendable () -> Date
    let logger: Logger
    static let interval = Duration.milliseconds(100)
    /// Notes per statement.
    static let batchMax = 512
    private var pending: [String] = []
    /// The writer while notes are waiting for it.
    private var writer: Task<Void, Never>?
    /// Set while the Simulator stops: the writer no longer waits a tenth between writes (a wait
    /// already begun runs out first, so a flush takes at most a tenth more than its writes).
    private var flushing = false

    init(store: SimulatorStore, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.now = now
        self.logger = logger
    }

    func add(_ providerID: String) {
        pending.append(providerID)
        guard writer == nil else { return }
        writer = Task { await writeEachInterval() }
    }

    /// Writes every note added so far and returns once they are written (or their failure
    /// logged): the Simulator's last step when it stops, before the database closes.
    func flush() async {
        flushing = true
        while let writer { await writer.value }
        flushing = false
    }

    /// Writes what arrived during each interval, until an interval brings nothing.
    private func writeEachInterval() async {
        while true {
            if !flushing { try? await Task.sleep(for: DeliveryNotes.interval) }
            guard !pending.isEmpty else { break }
            let batch = pending
            pending = []
            for start in stride(from: 0, to: batch.count, by: DeliveryNotes.batchMax) {
                let chunk = Array(batch[start..<min(batch.count, start + DeliveryNotes.batchMax)])
                do {
                    try await store.callbacksDelivered(providerIDs: chunk, at: now())
                } catch {
                    logger.warning(
                        "simulator: callbacks delivered but not noted; they will be sent again after a restart",
                        metadata: ["count": "\(chunk.count)", "error": "\(error)"]
                    )
                }
            }
        }
        writer = nil
    }
}
