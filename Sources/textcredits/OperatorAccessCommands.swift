import ArgumentParser
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation

/// `textcredits orgs list`: every organisation with its pool balance.
struct ListOrgs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List organisations: id, name, country, credit mode, created, pool balance."
    )

    @Flag(help: "Print a JSON array instead of a table.") var json = false
    @OptionGroup var database: DatabaseOptions

    /// One organisation as the command shows it.
    struct Row: Encodable, Equatable {
        var id: String
        var name: String
        var country: String
        var creditMode: String
        var created: String
        var poolBalance: String
        var markedSpam: Bool

        enum CodingKeys: String, CodingKey {
            case id, name, country
            case creditMode = "credit_mode"
            case created
            case poolBalance = "pool_balance"
            case markedSpam = "marked_spam"
        }
    }

    /// Every organisation, oldest first.
    static func rows(_ services: AppServices) async throws -> [Row] {
        var rows: [(Date, Row)] = []
        for id in try await services.stores.organizations.organizationIDs() {
            guard let organization = try await services.stores.organizations.organization(id) else { continue }
            let pool = try await services.credits.pool(of: id)
            let created = organization.createdAt.formatted(.iso8601)
            rows.append(
                (
                    organization.createdAt,
                    Row(
                        id: id.rawValue,
                        name: organization.name,
                        country: organization.country.rawValue,
                        creditMode: organization.creditMode.rawValue,
                        created: created,
                        poolBalance: pool.balance.decimalString,
                        markedSpam: organization.markedSpamAt != nil
                    )
                )
            )
        }
        return rows.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Columns padded to their widest cell.
    static func table(_ rows: [Row]) -> String {
        let header = ["ID", "NAME", "COUNTRY", "CREDITS", "CREATED", "POOL"]
        let cells =
            [header]
            + rows.map {
                [
                    $0.id, $0.name, $0.country, $0.creditMode, $0.created,
                    $0.poolBalance + ($0.markedSpam ? " (closed as spam)" : ""),
                ]
            }
        let widths = header.indices.map { column in cells.map { $0[column].count }.max() ?? 0 }
        return cells.map { line in
            line.enumerated().map { column, cell in
                column == line.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    func run() async throws {
        let rows = try await withServices(database) { services in try await Self.rows(services) }
        if json {
            print(String(decoding: try JSONEncoder.api.encode(rows), as: UTF8.self))
        } else if rows.isEmpty {
            print("No organisations yet: create one with textcredits orgs create.")
        } else {
            print(Self.table(rows))
        }
    }
}

/// `textcredits keys …`.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "API keys, for when the first one is lost.",
        subcommands: [CreateKey.self]
    )
}

/// `textcredits keys create`: a new API key for a staff member, shown once and audited.
struct CreateKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an API key acting as a staff member of an organisation (printed once; audited)."
    )

    @Option(help: "Organisation id (org_…; textcredits orgs list).") var org: String
    @Option(help: "The staff member's id (stf_…).") var staff: String?
    @Option(help: "The staff member's sign-in email (instead of --staff).") var email: String?
    @Option(help: "The key's name, shown in the audit log and the key list.") var name: String = "Command line"
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard (staff == nil) != (email == nil) else {
            throw ValidationError("Give either --staff or --email, to say whom the key acts as.")
        }
    }

    func run() async throws {
        let made = try await withServices(database) { services in
            try await services.administration.createKeyAsOperator(
                organization: OrganizationID(org),
                staffID: staff,
                email: email,
                name: name,
                actor: commandLineOperator
            )
        }
        if json {
            let output = [
                "id": made.record.id, "api_key": made.key, "name": made.record.name, "staff_id": made.staff.id,
                "organization_id": org,
            ]
            print(String(decoding: try JSONEncoder.api.encode(output), as: UTF8.self))
            return
        }
        print(
            """
            API key \(made.record.name) created for \(made.staff.name) (\(made.staff.email), \(made.staff.role.rawValue)).
              api_key: \(made.key)   (shown once; use as "Authorization: Bearer KEY")
            """
        )
    }
}
