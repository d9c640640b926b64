import Foundation

/// The ledger request that settles a call that is final: the hold is posted at what the call
/// cost (`CallCharge`, never more than was held) or voided when it cost nothing, with the audit
/// sentence people read ("Voice message delivered to +1…. 2 credits used. 98 remaining.").
public enum CallSettlement {
    public static func request(for call: Call, hold: HoldID, prices: PriceList, at instant: Date) -> LedgerRequest {
        let charge = CallCharge.credits(for: call, prices: prices)
        let (action, sentence) = audit(call, charged: charge > .zero)
        return LedgerRequest(
            organization: call.organizationID,
            idempotencyKey: "settle:\(call.id)",
            operation: charge > .zero ? .post(hold: hold, amount: charge) : .void(hold: hold),
            at: instant,
            actor: Actor.system.reference,
            memo: memo(call),
            audit: AuditRecord(
                organization: call.organizationID,
                actor: .system,
                action: action,
                message: sentence,
                subjectType: "call",
                subjectID: call.id,
                at: instant
            )
        )
    }

    /// The line the 30-day log shows ("Voice message to +1… completed", "Call from +1… completed").
    static func memo(_ call: Call) -> String {
        let what =
            switch call.kind {
            case .broadcast: "Voice message to"
            case .outgoing: "Call to"
            case .forwarded: "Call from"
            }
        return "\(what) \(call.to) \(call.status.label.lowercased())"
    }

    /// The audit entry of a settled call (also of a forwarded call that held nothing).
    public static func audit(_ call: Call, charged: Bool) -> (AuditAction, AuditText) {
        let cost: AuditText = charged ? "\(.counted("credit")) used. \(.availableAfter) remaining." : "No credits used."
        let minutes = { (seconds: Int?) in
            let count = PriceList.startedMinutes(seconds ?? 0)
            return "\(count) \(count == 1 ? "minute" : "minutes")"
        }
        let outcome = call.status.label.lowercased()
        switch call.kind {
        case .broadcast:
            guard call.status == .completed else {
                return (.voiceNotAnswered, "Voice message to \(call.to) not delivered (\(outcome)). " + cost)
            }
            if call.answeredBy == .machine && call.machineDetection == .hangUp {
                return (.voiceDelivered, "Voice message to \(call.to): an answering machine answered; hung up. " + cost)
            }
            let machine = call.answeredBy == .machine ? " (left on the answering machine)" : ""
            return (.voiceDelivered, "Voice message delivered to \(call.to)\(machine). " + cost)
        case .outgoing:
            guard call.status == .completed, (call.connectedDuration ?? 0) > 0 else {
                return (.callNotConnected, "Call to \(call.to) not connected (\(outcome)). " + cost)
            }
            return (.callCompleted, "Call to \(call.to) completed (\(minutes(call.connectedDuration))). " + cost)
        case .forwarded:
            var parts = ["Call from \(call.to) (\(minutes(call.duration)))"]
            if call.connectedDuration ?? 0 > 0 { parts.append("forwarded") }
            if call.voicemailMedia != nil { parts.append("voicemail left") }
            if call.transcription != nil { parts.append("transcribed") }
            let action: AuditAction = call.voicemailMedia != nil ? .voicemailReceived : .callForwarded
            return (action, AuditText(parts.joined(separator: ", ") + ". ") + cost)
        }
    }
}
