import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation

/// Low-balance alerts: at most one mail a day (in the organisation's time zone) to the staff
/// member whose send found the balance below their own threshold. Mail is kept in the Outbox
/// (and listed), or queued for the SMTP server and delivered by the maintenance worker.
public struct AlertService: Sendable {
    let services: AppServices

    /// After a send from `account` by `principal`; never fails the send.
    public func afterSend(_ principal: Principal, account: LedgerAccount) async {
        guard let threshold = principal.staff.lowBalanceThreshold else { return }
        do {
            guard let current = try await services.ledgerStore.accounts(of: principal.organizationID).first(where: { $0.id == account.id }),
                  current.available < threshold else { return }
            let now = services.now()
            let day = AlertService.day(of: now, in: principal.organization.timeZone)
            let whose = current.kind == .wallet ? "Your" : "\(principal.organization.name)'s"
            let mail = Mail(id: Identifier.make("mail_"), organizationID: principal.organizationID, kind: "low_balance", to: principal.staff.email,
                            subject: "SMS credits are running low",
                            body: """
                                Hello \(principal.staff.name),

                                \(whose) SMS credit balance is \(current.available) credits, below the \(threshold) you asked to be told about.
                                Texts stop when it reaches zero. Buy credits or turn on auto-renew under billing to keep sending.

                                This alert is sent at most once a day.
                                """,
                            status: services.configuration.mail.initialStatus, createdAt: now)
            _ = try await services.mailStore.recordLowBalanceAlert(mail, staffID: principal.staff.id, day: day)
        } catch {
            services.logger.error("low-balance alert failed", metadata: ["staff": "\(principal.staff.id)", "error": "\(String(reflecting: error))"])
        }
    }

    /// The calendar day of `instant` where the organisation is ("2026-11-21").
    static func day(of instant: Date, in timeZone: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC") ?? .current
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        func two(_ value: Int?) -> String { let text = String(value ?? 0); return text.count == 1 ? "0" + text : text }
        return "\(parts.year ?? 0)-\(two(parts.month))-\(two(parts.day))"
    }

    /// `GET /v1/mail`: the organisation's mail in the Outbox, newest first.
    public func mail(_ principal: Principal, after cursor: RecencyCursor?, limit: Int) async throws -> [Mail] {
        guard principal.can(.manageSettings) || principal.can(.viewLogs) else { throw APIError.forbidden(.viewLogs) }
        return try await services.mailStore.mail(of: principal.organizationID, after: cursor, limit: limit)
    }

    /// Hands queued mail to the mail server (SMTP only); a temporary refusal is retried on the
    /// next round, a permanent one marks the mail failed. Returns how many were sent.
    @discardableResult
    public func deliverQueued() async throws -> Int {
        guard case .smtp(let configuration) = services.configuration.mail else { return 0 }
        let client = SMTPClient(configuration: configuration)
        var sent = 0
        for mail in try await services.mailStore.queued(limit: 50) {
            do throws(MailError) {
                try await client.send(OutgoingMail(to: mail.to, subject: mail.subject, body: mail.body, id: mail.id), at: mail.createdAt)
            } catch {
                services.logger.warning("mail not delivered", metadata: ["mail": "\(mail.id)", "reason": "\(error.message)"])
                if !error.isTemporary { try await services.mailStore.delivered(mail.id, sent: false, error: error.message, at: services.now()) }
                if error.isTemporary { break }
                continue
            }
            try await services.mailStore.delivered(mail.id, sent: true, error: nil, at: services.now())
            sent += 1
        }
        return sent
    }
}
