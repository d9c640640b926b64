import CreditsCore
import CreditsStore
import Foundation
import Logging

/// Low-balance alerts: at most one mail a day (in the organisation's time zone) to the staff
/// member whose send found the balance below their own threshold. Mail is kept in the Outbox
/// (and listed), or queued for the SMTP server and delivered by `MailDelivery`.
public struct AlertService: Sendable {
    let credits: CreditService
    let mail: MailStore
    /// The status new mail starts in: kept in the Outbox, or queued for a mail server.
    let newMailStatus: MailStatus
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        credits: CreditService,
        mail: MailStore,
        newMailStatus: MailStatus,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.credits = credits
        self.mail = mail
        self.newMailStatus = newMailStatus
        self.now = now
        self.logger = logger
    }

    /// Reacts to a send that spent credits: the sender may be owed an alert.
    public func handle(_ fact: Fact) async {
        guard case .balanceChanged(let change) = fact, let principal = change.spentBy else { return }
        await afterSend(principal, account: change.account)
    }

    /// After a send from `account` by `principal`; never fails the send.
    func afterSend(_ principal: Principal, account: AccountID) async {
        guard let threshold = principal.staff.lowBalanceThreshold else { return }
        do {
            guard let current = try await credits.account(account, of: principal.organizationID),
                current.available < threshold
            else { return }
            let instant = now()
            let day = AlertService.day(of: instant, in: principal.organization.timeZone)
            let whose = current.kind == .wallet ? "Your" : "\(principal.organization.name)'s"
            let alert = Mail(
                id: Identifier.make("mail_"),
                organizationID: principal.organizationID,
                kind: .lowBalance,
                to: principal.staff.email,
                subject: "SMS credits are running low",
                body: """
                    Hello \(principal.staff.name),

                    \(whose) SMS credit balance is \(current.available) credits, below the \(threshold) you asked to be told about.
                    Texts stop when it reaches zero. Buy credits or turn on auto-renew under billing to keep sending.

                    This alert is sent at most once a day.
                    """,
                status: newMailStatus,
                createdAt: instant
            )
            _ = try await mail.recordLowBalanceAlert(alert, staffID: principal.staff.id, day: day)
        } catch {
            logger.error(
                "low-balance alert failed",
                metadata: ["staff": "\(principal.staff.id)", "error": "\(String(reflecting: error))"]
            )
        }
    }

    /// The calendar day of `instant` where the organisation is ("2026-11-21").
    static func day(of instant: Date, in timeZone: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC") ?? .current
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        func two(_ value: Int?) -> String {
            let text = String(value ?? 0)
            return text.count == 1 ? "0" + text : text
        }
        return "\(parts.year ?? 0)-\(two(parts.month))-\(two(parts.day))"
    }

    /// `GET /v1/mail`: the organisation's mail in the Outbox, newest first.
    public func mail(_ principal: Principal, after cursor: RecencyCursor?, limit: Int) async throws -> [Mail] {
        try principal.requireAny(.viewLogs, .manageSettings)
        return try await mail.mail(of: principal.organizationID, after: cursor, limit: limit)
    }
}
