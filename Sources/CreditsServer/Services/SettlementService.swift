import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation

/// Delivery reports move messages forward; a final status settles the message's hold exactly
/// once: delivered and undelivered are charged (at the provider's segment count, never more than
/// was held), failed and canceled are released.
public struct SettlementService: Sendable {
    let services: AppServices

    /// Applies a delivery report; returns false when it named no message we know.
    @discardableResult
    public func apply(_ report: StatusReport, messageID: String?) async throws -> Bool {
        guard let change = try await services.reports.submit(MessageStore.Report(
            messageID: messageID, providerID: report.providerID, status: report.status, errorCode: report.errorCode,
            errorMessage: report.errorMessage, segments: report.segments), key: 0) else { return false }
        if change.changed && change.message.status.isFinal { try await settle([change.message]) }
        return true
    }

    /// Settles final messages' holds (idempotent: the same message settles once).
    public func settle(_ messages: [Message]) async throws {
        let instant = services.now()
        var requests: [LedgerRequest] = []
        for message in messages {
            guard let hold = message.holdID, let settlement = message.status.settlement else { continue }
            requests.append(request(message, hold: hold, settlement: settlement, at: instant))
        }
        if requests.count == 1, let only = requests.first {
            // One report at a time (the usual case) joins the organisation's group commit.
            report(only, try await services.ledger.apply(only))
            return
        }
        for group in Dictionary(grouping: requests, by: \.organization).values {
            for (request, result) in zip(group, try await services.ledger.applyAll(group)) { report(request, result) }
        }
    }

    func report(_ request: LedgerRequest, _ result: Result<LedgerOutcome, LedgerError>) {
        if case .failure(let error) = result, error.code != "hold_already_resolved" {
            services.logger.warning("settlement refused", metadata: ["key": "\(request.idempotencyKey)", "error": "\(error.message)"])
        }
    }

    /// The ledger request settling one message, with the seed's audit sentence.
    func request(_ message: Message, hold: HoldID, settlement: Settlement, at instant: Date) -> LedgerRequest {
        let operation: LedgerOperation
        let sentence: String
        let action: String
        switch settlement {
        case .post:
            let charge = SettlementCharge.credits(held: message.credits, providerSegments: message.providerSegments, channel: message.channel,
                                                  prices: services.configuration.prices)
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

    /// Settles final messages whose hold is still pending (a settlement interrupted by a crash).
    @discardableResult
    public func settleStragglers(limit: Int = 500) async throws -> Int {
        let messages = try await services.messages.unsettled(limit: limit)
        try await settle(messages)
        return messages.count
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
                try await services.messages.expire(message.id, reason: "not sent before the hold timeout", at: instant)
                let request = LedgerRequest(
                    organization: message.organizationID, idempotencyKey: "timeout:\(message.id)", operation: .timeOut(hold: hold, policy: .void),
                    at: instant, actor: Actor.system.reference, memo: "SMS to \(message.to) expired unsent",
                    audit: AuditRecord(organization: message.organizationID, actor: .system, action: "sms.failed",
                                       message: "SMS message to \(message.to) was not sent in time. No credits used.", subjectType: "message",
                                       subjectID: message.id, at: instant))
                _ = try await services.ledger.apply(request)
            default:
                try await settle([message])
            }
        }
        return messages.count
    }
}
