import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import Logging

/// Call settlement is one unit of work, as for texts: the call store records what a report (or
/// a dispatch result) says and, in the same transaction, a call that is now final settles its
/// hold (`CallSettlement`) exactly once — a report repeated or out of order changes nothing.
public struct CallSettlementService: Sendable {
    let database: any Database
    let ledgerStore: SQLLedgerStore
    let contacts: ContactStore
    let calls: CallStore
    let prices: PriceList
    let now: @Sendable () -> Date
    let logger: Logger
    /// Reports arriving together are applied, and the calls they finish settled, in one
    /// transaction (as texts' reports are): under load, a few transactions instead of one each.
    let reports: GroupCommit<Int, CallReport, Call?>
    let settler: CallSettler

    public init(
        database: any Database,
        ledgerStore: SQLLedgerStore,
        contacts: ContactStore,
        calls: CallStore,
        prices: PriceList,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.database = database
        self.ledgerStore = ledgerStore
        self.contacts = contacts
        self.calls = calls
        self.prices = prices
        self.now = now
        self.logger = logger
        let settler = CallSettler(database: database, ledgerStore: ledgerStore, prices: prices, logger: logger)
        self.settler = settler
        self.reports = GroupCommit(batchSizeMax: 256) { _, batch in
            let instant = now()
            return try await settler.settling(at: instant) { work in
                var applied: [Call?] = []
                applied.reserveCapacity(batch.count)
                for report in batch { applied.append(try await CallStore.apply(report, at: instant, in: work)) }
                return (applied, applied.compactMap { $0 })
            }
        }
    }

    /// Applies a provider report; returns the call as it stands, nil when it names none of ours.
    @discardableResult
    public func apply(_ report: CallReport) async throws -> Call? {
        try await reports.submit(report, key: 0)
    }

    /// Records what a dispatch round did; calls failed for good settle (release) in the same unit of work.
    public func record(_ results: [(id: String, result: CallDispatchResult)]) async throws {
        guard !results.isEmpty else { return }
        let instant = now()
        try await settler.settling(at: instant) { work in
            ((), try await CallStore.record(results, at: instant, in: work))
        }
    }

    /// A forwarded call's voicemail, kept as media; the call settles once nothing more is to come.
    @discardableResult
    public func voicemail(_ callID: String, media: String, seconds: Int) async throws -> Call? {
        let instant = now()
        return try await finishing(at: instant) { work in
            let call = try await CallStore.voicemail(callID, media: media, seconds: seconds, at: instant, in: work)
            if let call, call.voicemailMedia == media { try await WebhookOutbox.voicemail(call, at: instant, in: work) }
            return call
        }
    }

    /// Stops waiting for a voicemail that was never left or cannot be fetched; the call settles.
    @discardableResult
    public func noRecording(_ callID: String, reason: String?) async throws -> Call? {
        let instant = now()
        return try await finishing(at: instant) { work in
            try await CallStore.noRecording(callID, reason: reason, at: instant, in: work)
        }
    }

    /// A voicemail's transcription (nil text: it failed and costs nothing).
    @discardableResult
    public func transcription(_ callID: String, text: String?) async throws -> Call? {
        let instant = now()
        return try await finishing(at: instant) { work in
            try await CallStore.transcription(callID, text: text, at: instant, in: work)
        }
    }

    /// The person pressed 9: they are opted out as if they had texted STOP (only they can undo
    /// it), with the call noted and audited, in one unit of work.
    @discardableResult
    public func keypressOptOut(_ callID: String, digits: String) async throws -> Call? {
        let instant = now()
        return try await database.unitOfWork { work in
            guard let call = try await CallStore.optOut(callID, at: instant, in: work), call.kind == .broadcast else {
                return nil
            }
            try await ContactStore.recordConsent(
                organization: call.organizationID,
                phone: call.to,
                state: .optedOut,
                source: .keypress,
                rawText: "pressed \(digits)",
                actor: Actor.system.reference,
                at: instant,
                in: work
            )
            try await AuditStore.insert(
                [
                    AuditRecord(
                        organization: call.organizationID,
                        actor: .system,
                        action: .voiceOptedOut,
                        message: "\(call.to) pressed 9 during a voice message and was opted out.",
                        subjectType: "call",
                        subjectID: call.id,
                        at: instant
                    )
                ],
                in: work
            )
            return call
        }
    }

    /// Settles calls whose final report never came (the hold timeout): a call that was answered
    /// is charged by what it was allowed; one never answered releases its hold.
    @discardableResult
    public func timeOut(olderThan age: TimeInterval, limit: Int = 500) async throws -> Int {
        let instant = now()
        let stale = try await calls.stale(before: instant.addingTimeInterval(-age), limit: limit)
        for call in stale {
            try await finishing(at: instant) { work in
                var report = CallReport(callID: call.id, providerID: call.providerID ?? "none:\(call.id)", status: nil)
                switch call.status {
                case .inProgress:
                    // Answered, and no word since: charged as if it lasted all it was allowed
                    // (the hold's own timeout policy for texts charges in full too).
                    report.status = .completed
                    report.duration = call.connectedDuration ?? call.timeLimit
                    report.connectedDuration = call.connectedDuration ?? call.timeLimit
                case .queued, .dialing: report.status = .failed
                default: break
                }
                report.errorCode = "no_report"
                report.errorMessage = "No final report came from the provider in time."
                var found = try await CallStore.apply(report, at: instant, in: work)
                if found?.awaitsRecording == true {
                    found = try await CallStore.noRecording(call.id, reason: nil, at: instant, in: work)
                }
                if found?.awaitsTranscription == true {
                    found = try await CallStore.transcription(call.id, text: nil, at: instant, in: work)
                }
                if var waiting = found, waiting.awaitsDial {
                    waiting.connectedDuration = 0
                    found = try await CallStore.apply(
                        CallReport(callID: call.id, providerID: "", status: nil, connectedDuration: 0),
                        at: instant,
                        in: work
                    )
                }
                return found
            }
        }
        return stale.count
    }

    /// Runs a call-store write and settles the call it returns if that made it final.
    @discardableResult
    func finishing(at instant: Date, _ write: @escaping @Sendable (UnitOfWork) async throws -> Call?) async throws
        -> Call?
    {
        try await settler.settling(at: instant) { work in
            let call = try await write(work)
            return (call, call.map { [$0] } ?? [])
        }
    }
}

/// Runs a call-store write that may make calls final and settles them in its unit of work (as
/// texts' `Settler` does).
struct CallSettler: Sendable {
    let database: any Database
    let ledgerStore: SQLLedgerStore
    let prices: PriceList
    let logger: Logger

    /// Runs `write` and settles the calls it returns, in its transaction.
    func settling<T: Sendable>(
        at instant: Date,
        _ write: @escaping @Sendable (UnitOfWork) async throws -> (T, [Call])
    ) async throws -> T {
        try await database.unitOfWork { work in
            let (result, touched) = try await write(work)
            for call in touched { try await settle(call, at: instant, in: work) }
            return result
        }
    }

    /// Settles a call once it is final and nothing more is to come, exactly once (the charge is
    /// recorded by a conditional update; the ledger request has the call's idempotency key).
    func settle(_ call: Call, at instant: Date, in work: UnitOfWork) async throws {
        guard call.isSettleable, call.charged == nil else { return }
        let charge = CallCharge.credits(for: call, prices: prices)
        guard try await CallStore.charge(call.id, charge, at: instant, in: work) else { return }
        try await WebhookOutbox.call(call, charged: call.holdID == nil ? .zero : charge, at: instant, in: work)
        guard let hold = call.holdID else {
            // Nothing was held (a call at zero credits reaching voicemail): recorded, free.
            let (action, sentence) = CallSettlement.audit(call, charged: false)
            try await AuditStore.insert(
                [
                    AuditRecord(
                        organization: call.organizationID,
                        actor: .system,
                        action: action,
                        message: sentence,
                        subjectType: "call",
                        subjectID: call.id,
                        at: instant
                    )
                ],
                in: work
            )
            return
        }
        let request = CallSettlement.request(for: call, hold: hold, prices: prices, at: instant)
        if case .failure(let error) = try await ledgerStore.apply([request], in: work).first {
            logger.error("call settlement refused", metadata: ["call": "\(call.id)", "error": "\(error)"])
        }
    }
}
