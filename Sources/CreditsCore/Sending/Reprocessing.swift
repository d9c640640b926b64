import Foundation

/// Reprocessing from toll-free (the PastorsLine page: "Reprocessing from toll-free numbers is now
/// 1 credit per message [160 characters]. This is a setting you control (on or off)."): a text
/// from a local number that a carrier filtered is sent once more from the organisation's
/// toll-free number. The filtered attempt costs nothing; the re-send is a message of its own,
/// held and settled like any other at 1 credit per segment (the local price, so its channel is
/// `sms`), and names the attempt it re-sends.
public enum Reprocessing {
    /// Twilio's carrier-filtering errors: 30007 (filtered as spam) and 30034 (sent from an
    /// unregistered 10DLC number) — the refusals a toll-free route gets past.
    public static let filteringCodes: Set<String> = ["30007", "30034"]

    /// Whether a message that has just become final is one to re-send: a paid text (not a
    /// picture) from a local number, failed or undelivered with a filtering error, and not
    /// itself a re-send (a message is reprocessed once).
    public static func isCandidate(_ message: Message) -> Bool {
        message.direction == .outbound && message.holdID != nil && message.reprocessOf == nil
            && message.channel == .sms && (message.media ?? []).isEmpty
            && (message.status == .failed || message.status == .undelivered)
            && filteringCodes.contains(message.errorCode ?? "")
    }

    /// The re-send of `original` from `tollFree`, queued now on a new hold.
    public static func resend(
        of original: Message,
        from tollFree: String,
        id: String,
        hold: HoldID,
        prices: PriceList,
        at instant: Date
    ) -> Message {
        var message = Message(
            id: id,
            organizationID: original.organizationID,
            campaignID: original.campaignID,
            conversationID: original.conversationID,
            direction: .outbound,
            kind: original.kind,
            from: tollFree,
            to: original.to,
            body: original.body,
            channel: .sms,
            segments: original.segments,
            credits: prices.text(channel: .sms, segments: original.segments),
            status: .queued,
            holdID: hold,
            notBefore: instant,
            createdAt: instant,
            updatedAt: instant
        )
        message.reprocessOf = original.id
        return message
    }
}

extension Settlement {
    /// The request that releases a filtered attempt's hold when it is re-sent from toll-free:
    /// the attempt costs nothing, whatever the report said.
    public static func reprocessedRequest(_ original: Message, hold: HoldID, resend: Message, at instant: Date)
        -> LedgerRequest
    {
        let code = original.errorCode ?? "filtered"
        return LedgerRequest(
            organization: original.organizationID,
            idempotencyKey: "settle:\(original.id)",
            operation: .void(hold: hold),
            at: instant,
            actor: Actor.system.reference,
            memo: "SMS to \(original.to) filtered by the carrier; re-sent from \(resend.from)",
            audit: AuditRecord(
                organization: original.organizationID,
                actor: .system,
                action: .smsReprocessed,
                message:
                    "SMS message to \(original.to) was filtered by the carrier (\(code)). No credits used. Re-sent from the toll-free number \(resend.from).",
                subjectType: "message",
                subjectID: original.id,
                at: instant
            )
        )
    }

    /// The hold of a re-send, reserved from the account the filtered attempt was held on.
    public static func resendHold(_ resend: Message, hold: HoldID, account: AccountID, timeoutAt: Date)
        -> LedgerRequest
    {
        LedgerRequest(
            organization: resend.organizationID,
            idempotencyKey: "reserve:\(resend.reprocessOf ?? resend.id):reprocess",
            operation: .reserve(
                hold: hold,
                account: account,
                amount: resend.credits,
                reference: resend.id,
                timeoutAt: timeoutAt
            ),
            at: resend.createdAt,
            actor: Actor.system.reference,
            memo: "Hold for SMS to \(resend.to) re-sent from toll-free"
        )
    }
}
