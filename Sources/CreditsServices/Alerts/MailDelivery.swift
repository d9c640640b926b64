import CreditsAdapters
import CreditsStore
import Foundation
import Logging

/// Hands queued mail to the mail server (SMTP only; the Outbox keeps mail and sends nothing): a
/// temporary refusal is retried on the next pass, a permanent one marks the mail failed.
public struct MailDelivery: Sendable {
    let mail: MailStore
    /// The SMTP client, or nil with the Outbox.
    let client: SMTPClient?
    let now: @Sendable () -> Date
    let logger: Logger

    public init(mail: MailStore, client: SMTPClient?, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.mail = mail
        self.client = client
        self.now = now
        self.logger = logger
    }

    /// Delivers up to `limit` queued mails; returns how many were sent.
    @discardableResult
    public func deliverQueued(limit: Int = 50) async throws -> Int {
        guard let client else { return 0 }
        var sent = 0
        for queued in try await mail.queued(limit: limit) {
            do throws(MailError) {
                try await client.send(
                    OutgoingMail(to: queued.to, subject: queued.subject, body: queued.body, id: queued.id),
                    at: queued.createdAt
                )
            } catch {
                logger.warning("mail not delivered", metadata: ["mail": "\(queued.id)", "reason": "\(error.message)"])
                if error.isTemporary { break }
                try await mail.delivered(queued.id, sent: false, error: error.message, at: now())
                continue
            }
            try await mail.delivered(queued.id, sent: true, error: nil, at: now())
            sent += 1
        }
        return sent
    }
}
