import ArgumentParser
import CreditsStore
import Foundation

/// `textcredits mail --to ADDRESS`: the newest mail to one address, as the Outbox kept it (or as
/// it went to the mail server). With the built-in Outbox this is how a person on the server reads
/// a password-reset link.
struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail",
        abstract: "Show the newest mail to an address (the Outbox, when no mail server is set)."
    )

    @OptionGroup var options: DatabaseOptions

    @Option(help: "The address the mail went to.")
    var to: String

    @Option(help: "How many mails, newest first.")
    var limit: Int = 1

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (1...100).contains(limit) else { throw ValidationError("--limit is 1 to 100.") }
    }

    func run() async throws {
        let database = try await options.open()
        let mails: [Mail]
        do {
            mails = try await MailStore(database: database).mail(to: to, limit: limit)
        } catch {
            await database.close()
            throw error
        }
        await database.close()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(mails), as: UTF8.self))
            return
        }
        if mails.isEmpty { print("No mail to \(to).") }
        for mail in mails {
            print("To: \(mail.to)\nSubject: \(mail.subject)\nStatus: \(mail.status.rawValue)\n\n\(mail.body)\n")
        }
    }
}
