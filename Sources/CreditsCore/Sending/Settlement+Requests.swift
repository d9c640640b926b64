import Foundation

extension Settlement {
    /// The ledger requests that settle messages which have just reached a final status, in the
    /// order given: delivered and undelivered post their hold at the provider's segment count
    /// (never more than was held), failed and canceled void it. Messages without a hold (free
    /// ones) or not final need nothing and are left out.
    public static func requests(for messages: [Message], prices: PriceList, at instant: Date) -> [LedgerRequest] {
        messages.compactMap { message in
            guard let hold = message.holdID, let settlement = message.status.settlement else { return nil }
            return request(message, hold: hold, settlement: settlement, prices: prices, at: instant)
        }
    }

    /// The request settling one message, with the seed's audit sentence.
    static func request(_ message: Message, hold: HoldID, settlement: Settlement, prices: PriceList, at instant: Date)
        -> LedgerRequest
    {
        let operation: LedgerOperation
        let sentence: AuditText
        switch settlement {
        case .post:
            let charge = SettlementCharge.credits(
                held: message.credits,
                providerSegments: message.providerSegments,
                channel: message.channel,
                prices: prices
            )
            operation = .post(hold: hold, amount: charge)
            sentence =
                "SMS message \(message.status.rawValue) to \(message.to). \(.counted("credit")) used. \(.availableAfter) remaining."
        case .void:
            operation = .void(hold: hold)
            let reason = [message.errorCode, message.errorMessage].compactMap { $0 }.joined(separator: ": ")
            sentence =
                message.status == .canceled
                ? "SMS message to \(message.to) canceled. No credits used."
                : "SMS message to \(message.to) failed\(reason.isEmpty ? "" : " (\(reason))"). No credits used."
        }
        return LedgerRequest(
            organization: message.organizationID,
            idempotencyKey: "settle:\(message.id)",
            operation: operation,
            at: instant,
            actor: Actor.system.reference,
            memo: "SMS to \(message.to) \(message.status.rawValue)",
            audit: AuditRecord(
                organization: message.organizationID,
                actor: .system,
                action: auditAction(message.status),
                message: sentence,
                subjectType: "message",
                subjectID: message.id,
                at: instant
            )
        )
    }

    /// The audit action of a message settled in `status`.
    static func auditAction(_ status: MessageStatus) -> AuditAction {
        switch status {
        case .delivered: .smsDelivered
        case .undelivered: .smsUndelivered
        case .canceled: .smsCanceled
        case .failed, .queued, .sending, .sent, .received: .smsFailed
        }
    }

    /// The request that charges a message still `sent` when its hold timed out (no delivery
    /// report came in time): the hold is posted in full, as the timeout policy says.
    public static func timeoutRequest(for message: Message, hold: HoldID, at instant: Date) -> LedgerRequest {
        LedgerRequest(
            organization: message.organizationID,
            idempotencyKey: "timeout:\(message.id)",
            operation: .timeOut(hold: hold, policy: .post),
            at: instant,
            actor: Actor.system.reference,
            memo: "SMS to \(message.to): no delivery report in time",
            audit: AuditRecord(
                organization: message.organizationID,
                actor: .system,
                action: .smsTimedOut,
                message:
                    "SMS message to \(message.to) had no delivery report in time. \(.counted("credit")) used. \(.availableAfter) remaining.",
                subjectType: "message",
                subjectID: message.id,
                at: instant
            )
        )
    }
}
