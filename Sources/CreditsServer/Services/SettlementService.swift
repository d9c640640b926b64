import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import Logging

/// Delivery reports move messages forward; a final status settles the message's hold exactly
/// once, in the same transaction (see `MessageStore`): delivered and undelivered are charged (at
/// the provider's segment count, never more than was held), failed and canceled are released.
public struct SettlementService: Sendable {
    let services: AppServices

    /// Applies a delivery report, settling the message's hold in the same transaction when the
    /// report finishes it; returns false when it named no message we know.
    @discardableResult
    public func apply(_ report: StatusReport, messageID: String?) async throws -> Bool {
        try await services.reports.submit(MessageStore.Report(
            messageID: messageID, providerID: report.providerID, status: report.status, errorCode: report.errorCode,
            errorMessage: report.errorMessage, segments: report.segments), key: 0) != nil
    }

    /// Settles the holds of final messages through `apply`, called once per organisation (in
    /// id order, so transactions that settle several organisations lock them in one order).
    /// Messages not final or without a hold are skipped. A refusal other than "already
    /// resolved" is logged: it means the ledger and the outbox disagree.
    static func settle(_ messages: [Message], prices: PriceList, at instant: Date, logger: Logger,
                       apply: ([LedgerRequest]) async throws -> [Result<LedgerOutcome, LedgerError>]) async throws {
        var requests: [LedgerRequest] = []
        for message in messages {
            guard let hold = message.holdID, let settlement = message.status.settlement else { continue }
            requests.append(request(message, hold: hold, settlement: settlement, prices: prices, at: instant))
        }
        for (_, group) in Dictionary(grouping: requests, by: \.organization).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for (request, result) in zip(group, try await apply(group)) {
                if case .failure(let error) = result, error.code != "hold_already_resolved" {
                    logger.warning("settlement refused", metadata: ["key": "\(request.idempotencyKey)", "error": "\(error.message)"])
                }
            }
        }
    }

    /// The ledger request settling one message, with the seed's audit sentence.
    static func request(_ message: Message, hold: HoldID, settlement: Settlement, prices: PriceList, at instant: Date) -> LedgerRequest {
        let operation: LedgerOperation
        let sentence: String
        let action: String
        switch settlement {
        case .post:
            let charge = SettlementCharge.credits(held: message.credits, providerSegments: message.providerSegments, channel: message.channel,
                                                  prices: prices)
            operation = .post(hold: hold, amount: charge)
            sentence = "SMS message \(message.status.rawValue) to \(message.to). {{amount}} credits used. {{available_after}} remaining."
            action = "sms.\(message.status.rawValue)"
        case .void:
            operation = .void(hold: hold)
            let reason = [message.errorCode, message.errorMessage].compactMap { $0 }.joined(separator: ": ")
            sentence = message.status == .canceled
                ? "SMS message to \(message.to) canceled. No credits used."
                : "SMS message to \(message.to) failed\(reason.isEmpty ? "" : " (\(reason))"). No credits used."
            action = "sms.\(message.status.rawValue)"
        }
        return LedgerRequest(organization: message.organizationID, idempotencyKey: "settle:\(message.id)", operation: operation, at: instant,
                             actor: Actor.system.reference, memo: "SMS to \(message.to) \(message.status.rawValue)",
                             audit: AuditRecord(organization: message.organizationID, actor: .system, action: action, message: sentence,
                                                subjectType: "message", subjectID: message.id, at: instant))
    }

    /// Applies the timeout policy to holds past their timeout: a message still `sent` is charged;
    /// one never dispatched fails and its hold is released.
    @discardableResult
    public func timeOutHolds(limit: Int = 500) async throws -> Int {
        let instant = services.now()
        let messages = try await services.messages.timedOut(now: instant, limit: limit)
        for message in messages {
            guard let hold = message.holdID else { continue }
            switch message.status {
            case .sent:
                let request = LedgerRequest(
                    organization: message.organizationID, idempotencyKey: "timeout:\(message.id)", operation: .timeOut(hold: hold, policy: .post),
                    at: instant, actor: Actor.system.reference, memo: "SMS to \(message.to): no delivery report in time",
                    audit: AuditRecord(organization: message.organizationID, actor: .system, action: "sms.timed_out",
                                       message: "SMS message to \(message.to) had no delivery report in time. {{amount}} credits used. {{available_after}} remaining.",
                                       subjectType: "message", subjectID: message.id, at: instant))
                if case .success = try await services.ledger.apply(request) {
                    try await services.messages.note(message.id, status: .sent, detail: "charged after the hold timeout", at: instant)
                }
            case .queued, .sending:
                // Fails the message and releases its hold in one transaction.
                try await services.messages.expire(message.id, reason: "not sent before the hold timeout", at: instant)
            default:
                // A final message settles in the transaction that finished it, so its hold
                // cannot still be pending; `ledger verify` reports it if it ever is.
                services.logger.error("final message with a pending hold", metadata: ["message": "\(message.id)"])
            }
        }
        return messages.count
    }
}
