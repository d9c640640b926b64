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
            let audit = AuditRecord(
                organization: organization.id,
                actor: .system,
                action: .smsSignup,
                message: "Signup message sent to \(phone).",
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
                audits: [audit],
                now: now
            )
            await facts.publish(
                .balanceChanged(BalanceChanged(organization: organization.id, account: pool.id, isPool: true))
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

/// What became of a signup message.
public enum SignupOutcome: Sendable, Equatable {
    /// Queued to go at once.
    case queued
    /// The organisation has no signup message.
    case noMessageSet
    /// Refused (no credits, no number …), with the reason, which is also in the audit log.
    case notSent(reason: String)
}
