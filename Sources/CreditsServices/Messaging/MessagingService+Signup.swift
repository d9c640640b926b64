import CreditsCore
import CreditsStore
import Foundation

extension MessagingService {
    /// Sends the signup message to a number that just opted in: immediately, even outside the
    /// sending hours, without header or footer, paid from the pool. A failure is audited, not thrown.
    @discardableResult
    public func sendSignup(organization: Organization, phone: String, from: String? = nil) async -> SignupOutcome {
        let text = organization.smsSettings.signupMessage
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return .noMessageSet }
        let now = now()
        do {
            try await sendSystemText(
                text,
                organization: organization,
                phone: phone,
                from: from,
                audit: (.smsSignup, "Signup message sent to \(phone).")
            )
            return .queued
        } catch {
            let reason = (error as? any DomainError)?.message ?? "\(error)"
            try? await AuditStore.insert(
                [
                    AuditRecord(
                        organization: organization.id,
                        actor: .system,
                        action: .smsSignupFailed,
                        message: "Signup message to \(phone) not sent: \(reason)",
                        at: now
                    )
                ],
                into: database
            )
            return .notSent(reason: reason)
        }
    }
}

extension MessagingService {
    /// Sends a text of the organisation's own (the signup message, the opt-in page's request to
    /// confirm) to one number: at once, even outside the sending hours, without header or footer,
    /// paid from the pool, reserved and settled like any other message, as the system. Throws
    /// (and keeps nothing) when it cannot be paid for or the organisation has no number. Returns
    /// the message's id.
    @discardableResult
    func sendSystemText(
        _ text: String,
        organization: Organization,
        phone: String,
        from: String? = nil,
        audit: (action: AuditAction, message: AuditText)
    ) async throws -> String {
        let now = now()
        let options = EstimateService.options(for: organization, channel: .sms, signup: true, prices: prices)
        let price = try Estimator.price(body: text, options: options)
        let pool = try await credits.pool(of: organization.id)
        let sender: String
        if let from { sender = from } else { sender = try await numbers.sendingNumber(organization.id) }
        let item = Planned(
            id: Identifier.make("msg_"),
            phone: phone,
            text: price.text,
            segments: price.segments,
            credits: price.credits
        )
        let record = AuditRecord(
            organization: organization.id,
            actor: .system,
            action: audit.action,
            message: audit.message,
            subjectType: "message",
            subjectID: item.id,
            at: now
        )
        try await place(
            [item],
            organization: organization.id,
            account: pool,
            from: sender,
            channel: .sms,
            kind: .signup,
            campaign: nil,
            conversation: nil,
            notBefore: now,
            actor: .system,
            audits: [record],
            now: now
        )
        await facts.publish(
            .balanceChanged(BalanceChanged(organization: organization.id, account: pool.id, isPool: true))
        )
        return item.id
    }
}

/// What became of a signup message.
public enum SignupOutcome: Sendable, Equatable {
    /// Queued to go at once.
    case queued
    /// The organisation has no signup message.
    case noMessageSet
    /// Refused (no credits, no number …), with the reason, which is also in the audit log.
    case notSent(reason: String)
}
