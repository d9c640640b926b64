import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import Logging
import Metrics

/// Settlement is one unit of work: the message store records what finished a message (a
/// delivery report, a refusal at dispatch, a cancel, an expiry) and this service applies, in the
/// same transaction, the ledger requests `Settlement.requests(for:prices:at:)` computes for the
/// messages that became final. Delivered and undelivered are charged at the provider's segment
/// count (never more than was held); failed and canceled are released.
public struct SettlementService: Sendable {
    let messages: MessageStore
    let ledgerStore: SQLLedgerStore
    let settler: Settler
    let now: @Sendable () -> Date
    let logger: Logger
    /// The counter of texts by final status (swift-metrics; `/metrics` describes it).
    public static let sendsMetricLabel = "textcredits_sends_total"
    /// Delivery reports arriving together are applied, and the holds of the messages they
    /// finish settled, in one transaction.
    let reports: GroupCommit<Int, MessageStore.Report, MessageStore.StatusChange?>

    public init(
        database: any Database,
        ledgerStore: SQLLedgerStore,
        messages: MessageStore,
        prices: PriceList,
        holdTimeout: TimeInterval,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        let settler = Settler(
            database: database,
            ledgerStore: ledgerStore,
            prices: prices,
            holdTimeout: holdTimeout,
            logger: logger
        )
        self.messages = messages
        self.ledgerStore = ledgerStore
        self.settler = settler
        self.now = now
        self.logger = logger
        // The reports are taken once the batch's transaction holds the write lock: those that
        // arrive while it waits for the lock join it (settling is bound by that lock, and a
        // larger batch costs fewer statements a report).
        self.reports = GroupCommit(
            batchSizeMax: 512,
            takingWhenReady: { _, take in try await settler.applyReports(taking: take, now: now) }
        )
    }

    /// Applies a delivery report, settling the message's hold in the same transaction when the
    /// report finishes it; returns false when it named no message we know.
    @discardableResult
    public func apply(_ report: StatusReport, messageID: String?) async throws -> Bool {
        try await reports.submit(
            MessageStore.Report(
                messageID: messageID,
                providerID: report.providerID,
                status: report.status,
                errorCode: report.errorCode,
                errorMessage: report.errorMessage,
                segments: report.segments
            ),
            key: 0
        ) != nil
    }

    /// Applies a batch of delivery reports in one transaction, settling the holds of the
    /// messages they finish; returns one change per report (nil when it named no message).
    public func applyReports(_ batch: [MessageStore.Report]) async throws -> [MessageStore.StatusChange?] {
        try await settler.applyReports(taking: { batch }, now: now)
    }

    /// Records what a dispatch round did; the messages it failed for good are settled (released)
    /// in the same transaction.
    public func record(_ results: [(id: String, result: DispatchResult)]) async throws {
        guard !results.isEmpty else { return }
        let instant = now()
        let prices = settler.prices
        try await settler.finishing(at: instant) { work in
            let recorded = try await MessageStore.recordDispatch(results, at: instant, in: work)
            // Only the texts this round moved to sent are told (a report that overtook it told the rest).
            if !recorded.sent.isEmpty, try await WebhookStore.anyEnabled(in: work) {
                let messages = try await MessageStore.messages(recorded.sent, in: work)
                try await WebhookOutbox.messages(messages, prices: prices, at: instant, in: work)
            }
            return ((), recorded.finished)
        }
    }

    /// Cancels a campaign's messages not yet dispatched and releases their holds, in one
    /// transaction; returns the messages canceled.
    public func cancel(campaign: String, organization: OrganizationID) async throws -> [Message] {
        let instant = now()
        return try await settler.finishing(at: instant) { work in
            let canceled = try await MessageStore.cancelQueued(
                campaign: campaign,
                organization: organization,
                at: instant,
                in: work
            )
            return (canceled, canceled)
        }
    }

    /// Releases one of an organisation's numbers: it sends nothing more, and texts still queued
    /// from it are canceled with their holds released, in one unit of work. False when the
    /// organisation has no such number in use.
    public func release(number: String, organization: OrganizationID, audit: AuditRecord) async throws -> Bool {
        let instant = now()
        return try await settler.finishing(at: instant) { work in
            guard try await NumberStore.release(number, of: organization, at: instant, audit: audit, in: work) else {
                return (false, [])
            }
            let canceled = try await MessageStore.cancelQueued(
                fromNumber: number,
                organization: organization,
                at: instant,
                in: work
            )
            return (true, canceled)
        }
    }

    /// Applies the timeout policy to up to `limit` holds past their timeout (a background job): a
    /// message still `sent` is charged; one never dispatched fails and its hold is released.
    @discardableResult
    public func timeOutHolds(limit: Int = 500) async throws -> Int {
        let instant = now()
        let timedOut = try await messages.timedOut(now: instant, limit: limit)
        for message in timedOut {
            guard let hold = message.holdID else { continue }
            switch message.status {
            case .sent:
                let request = Settlement.timeoutRequest(for: message, hold: hold, at: instant)
                if case .success = try await ledgerStore.apply([request]).first {
                    try await messages.note(
                        message.id,
                        status: .sent,
                        detail: "charged after the hold timeout",
                        at: instant
                    )
                }
            case .queued, .sending:
                // Fails the message and releases its hold in one transaction.
                try await settler.finishing(at: instant) { work in
                    (
                        (),
                        try await MessageStore.expire(
                            message.id,
                            reason: "not sent before the hold timeout",
                            at: instant,
                            in: work
                        )
                    )
                }
            case .delivered, .undelivered, .failed, .canceled, .received:
                // A final message settles in the transaction that finished it, so its hold
                // cannot still be pending; `ledger verify` reports it if it ever is.
                logger.error("final message with a pending hold", metadata: ["message": "\(message.id)"])
            }
        }
        return timedOut.count
    }
}

/// Runs a store write that makes messages final and settles their holds, in one unit of work.
struct Settler: Sendable {
    let database: any Database
    let ledgerStore: SQLLedgerStore
    let prices: PriceList
    /// How long a re-send's hold waits for its delivery report.
    let holdTimeout: TimeInterval
    let logger: Logger

    /// Runs `write` and settles the messages it reports finished, in its transaction; once it
    /// committed, counts them by final status.
    func finishing<T: Sendable>(
        at instant: Date,
        _ write: @escaping @Sendable (UnitOfWork) async throws -> (T, [Message])
    ) async throws -> T {
        let stamp: @Sendable () -> Date = { instant }
        return try await finishing(stampedBy: stamp) { work, _ in try await write(work) }
    }

    /// `finishing(at:_:)` with the instant read from `now` once the unit of work has begun
    /// (holding SQLite's write lock), for work that takes its input only then.
    func finishing<T: Sendable>(
        stampedBy now: @escaping @Sendable () -> Date,
        _ write: @escaping @Sendable (UnitOfWork, Date) async throws -> (T, [Message])
    ) async throws -> T {
        let (result, finished) = try await database.unitOfWork { work in
            let instant = now()
            let (result, finished) = try await write(work, instant)
            try await settle(finished, at: instant, in: work)
            return (result, finished)
        }
        for (status, messages) in Dictionary(grouping: finished, by: \.status) {
            Counter(label: SettlementService.sendsMetricLabel, dimensions: [("status", status.rawValue)])
                .increment(by: messages.count)
        }
        return result
    }

    /// Applies delivery reports and settles the messages they finish: `take` gives the reports
    /// once the unit of work has begun, and they are stamped with `now` read then.
    func applyReports(
        taking take: @escaping @Sendable () async -> [MessageStore.Report],
        now: @escaping @Sendable () -> Date
    ) async throws -> [MessageStore.StatusChange?] {
        try await finishing(stampedBy: now) { work, instant in
            let batch = await take()
            let applied = try await MessageStore.applyReports(batch, at: instant, in: work)
            let sent = applied.changes.compactMap { $0 }.filter { $0.changed && $0.message.status == .sent }
            try await WebhookOutbox.messages(sent.map(\.message), prices: prices, at: instant, in: work)
            return (applied.changes, applied.finished)
        }
    }

    /// Settles final messages, one organisation at a time (in id order, so transactions that
    /// settle several organisations lock them in one order). Messages not final or without a hold
    /// need nothing. A text a carrier filtered is re-sent from the toll-free number where the
    /// organisation asked for it (`Reprocessing`): its hold is released and the re-send's reserved
    /// in this same unit of work. A refusal other than "already resolved" is logged: it means the
    /// ledger and the outbox disagree.
    func settle(_ finished: [Message], at instant: Date, in work: UnitOfWork) async throws {
        let resends = try await reprocessing(finished, at: instant, in: work)
        let reprocessed = Set(resends.map(\.original.id))
        var requests = Settlement.requests(
            for: finished.filter { !reprocessed.contains($0.id) },
            prices: prices,
            at: instant
        )
        var holdKeys: [String: (original: Message, resend: Message)] = [:]
        for item in resends {
            guard let hold = item.original.holdID, let resendHold = item.resend.holdID else { continue }
            requests.append(Settlement.reprocessedRequest(item.original, hold: hold, resend: item.resend, at: instant))
            let reserve = Settlement.resendHold(
                item.resend,
                hold: resendHold,
                account: item.account,
                timeoutAt: instant.addingTimeInterval(holdTimeout)
            )
            holdKeys[reserve.idempotencyKey] = (item.original, item.resend)
            requests.append(reserve)
        }
        var queued: [Message] = []
        var notes: [(id: String, status: MessageStatus, detail: String)] = []
        for (_, group) in Dictionary(grouping: requests, by: \.organization).sorted(by: {
            $0.key.rawValue < $1.key.rawValue
        }) {
            for (request, result) in zip(group, try await ledgerStore.apply(group, in: work)) {
                if let (filtered, resend) = holdKeys[request.idempotencyKey] {
                    let (original, status) = (filtered.id, filtered.status)
                    if case .failure(let error) = result {
                        notes.append((original, status, "filtered by the carrier; not re-sent: \(error.message)"))
                    } else {
                        queued.append(resend)
                        notes.append(
                            (original, status, "filtered by the carrier; re-sent from \(resend.from) as \(resend.id)")
                        )
                    }
                    continue
                }
                guard case .failure(let error) = result else { continue }
                if case .holdAlreadyResolved = error { continue }
                logger.warning(
                    "settlement refused",
                    metadata: ["key": "\(request.idempotencyKey)", "error": "\(error.message)"]
                )
            }
        }
        try await MessageStore.insert(
            queued,
            detail: "re-sent from toll-free after the carrier filtered the text",
            in: work
        )
        try await MessageStore.addReserved(queued, in: work)
        try await MessageStore.note(notes, at: instant, in: work)
        try await WebhookOutbox.messages(finished, prices: prices, at: instant, in: work)
        let completed = try await MessageStore.completeCampaigns(
            Set(finished.compactMap(\.campaignID)),
            at: instant,
            in: work
        )
        try await WebhookOutbox.campaigns(completed, at: instant, in: work)
    }

    /// The filtered texts among `finished` to re-send from the toll-free number, each with the
    /// account its hold was reserved from.
    func reprocessing(_ finished: [Message], at instant: Date, in work: UnitOfWork) async throws
        -> [(original: Message, resend: Message, account: AccountID)]
    {
        let candidates = finished.filter(Reprocessing.isCandidate)
        guard !candidates.isEmpty else { return [] }
        let senders = try await MessageStore.reprocessingSenders(Set(candidates.map(\.organizationID)), in: work)
        let wanted = candidates.filter { senders[$0.organizationID] != nil }
        guard !wanted.isEmpty else { return [] }
        let accounts = try await MessageStore.holdAccounts(wanted.compactMap(\.holdID), in: work)
        return wanted.compactMap { original in
            guard let hold = original.holdID, let account = accounts[hold],
                let tollFree = senders[original.organizationID]
            else { return nil }
            let resend = Reprocessing.resend(
                of: original,
                from: tollFree,
                id: Identifier.make("msg_"),
                hold: HoldID(Identifier.make("hold_")),
                prices: prices,
                at: instant
            )
            return (original, resend, account)
        }
    }
}
