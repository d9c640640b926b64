import ArgumentParser
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation

/// Opens the database and the services for an operator command; works while a server runs.
func withServices<T>(_ options: DatabaseOptions, _ body: (AppServices) async throws -> T) async throws -> T {
    let database = try await options.open()
    var configuration = AppConfiguration()
    configuration.database = try options.url()
    configuration.runsWorkers = false
    let services = try await AppServices.build(
        configuration: configuration,
        database: database,
        logger: CommandLogger.make()
    )
    do {
        let result = try await body(services)
        await database.close()
        return result
    } catch {
        await database.close()
        if let error = error as? any DomainError { throw ValidationError("\(error.message) (\(error.code))") }
        throw error
    }
}

/// The operator at the command line, in audit entries.
let commandLineOperator = Actor(
    kind: .operator,
    id: ProcessInfo.processInfo.environment["USER"],
    name: "Operator (command line)"
)

/// `textcredits orgs …`.
struct OrgsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orgs",
        abstract: "Manage organisations.",
        subcommands: [CreateOrg.self, ListOrgs.self, MarkSpam.self]
    )
}

/// `textcredits orgs create`.
struct CreateOrg: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an organisation with an owner and a first API key."
    )

    @Option(help: "Organisation name.") var name: String
    @Option(help: "US, CA, AU, NZ or GB.") var country: String
    @Option(help: "IANA time zone, e.g. America/Chicago.") var timezone: String
    @Option(name: .customLong("credit-mode"), help: "shared (one pool) or individual (wallets per staff member).")
    var creditMode: String = "shared"
    @Option(name: .customLong("owner-name"), help: "The owner's name.") var ownerName: String = "Owner"
    @Option(name: .customLong("owner-email"), help: "The owner's sign-in email (default owner@<account>.example).")
    var ownerEmail: String?
    @Option(
        name: .customLong("owner-password"),
        help: "The owner's password (a random one is generated and printed otherwise)."
    )
    var ownerPassword: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard let country = Country(code: country) else {
            throw ValidationError("--country must be US, CA, AU, NZ or GB.")
        }
        guard let mode = CreditMode(rawValue: creditMode) else {
            throw ValidationError("--credit-mode must be shared or individual.")
        }
        let created = try await withServices(database) { services in
            try await services.administration.createOrganization(
                name: name,
                country: country,
                timeZone: timezone,
                creditMode: mode,
                ownerName: ownerName,
                ownerEmail: ownerEmail ?? "owner@\(AdministrationService.accountName(name)).example",
                ownerPassword: ownerPassword,
                actor: commandLineOperator
            )
        }
        if json {
            let output: [String: String] = [
                "organization_id": created.organization.id.rawValue, "api_key": created.apiKey,
                "owner_email": created.owner.email,
                "owner_password": created.ownerPassword, "owner_id": created.owner.id,
            ]
            let data = try JSONEncoder.api.encode(output)
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(
            """
            Organisation \(created.organization.name) created.
              organization_id: \(created.organization.id)
              api_key:         \(created.apiKey)   (shown once; use as "Authorization: Bearer KEY")
              owner:           \(created.owner.email) / password \(created.ownerPassword)
            """
        )
    }
}

/// `textcredits credits …`.
struct CreditsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credits",
        abstract: "Operator credit adjustments.",
        subcommands: [AdjustCredits.self]
    )
}

/// `textcredits credits adjust`: goodwill credits or a correction, audited.
struct AdjustCredits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adjust",
        abstract: "Add (positive) or remove (negative) pool credits."
    )

    @Option(help: "Organisation id.") var org: String
    @Option(parsing: .unconditional, help: "Credits, up to 3 decimals; negative removes available credits.")
    var credits: String
    @Option(help: "Why (shown in the statement and audit log).") var reason: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard let amount = Credits(decimal: credits) else {
            throw ValidationError("--credits must be a number with at most 3 decimals.")
        }
        let outcome = try await withServices(database) { services in
            guard try await services.stores.organizations.organization(OrganizationID(org)) != nil else {
                throw ValidationError("No organisation \(org).")
            }
            return try await services.credits.adjust(
                OrganizationID(org),
                credits: amount,
                reason: reason,
                actor: commandLineOperator
            )
        }
        print(
            "Adjusted by \(amount.counted()); pool balance now \(outcome.balanceAfter ?? .zero) (transfer \(outcome.transfer))."
        )
    }
}

/// `textcredits orgs mark-spam`: closes an account as spam (all its credits removed, audited).
struct MarkSpam: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark-spam",
        abstract: "Close an organisation as spam: every credit it has, purchased ones too, moves to expired."
    )

    @Option(help: "Organisation id.") var org: String
    @Option(help: "Why, for the audit log.") var reason: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let removed = try await withServices(database) { services in
            guard let organization = try await services.stores.organizations.organization(OrganizationID(org)) else {
                throw ValidationError("No organisation \(org).")
            }
            guard organization.markedSpamAt == nil else { throw ValidationError("\(org) is already marked as spam.") }
            return try await services.credits.closeAsSpam(organization.id, reason: reason, actor: commandLineOperator)
        }
        print("\(org) closed as spam: \(removed) credits removed.")
    }
}

/// `textcredits plans …`.
struct PlansCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plans",
        abstract: "The plan catalogue and operator plan settings.",
        subcommands: [DefinePlan.self, ListPlans.self, SetPlan.self]
    )
}

/// `textcredits plans define`: adds a plan to the catalogue organisations subscribe to (or
/// replaces the one with its id). Prices are per country, in dollars before tax.
struct DefinePlan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "define",
        abstract: "Add or change a catalogue plan (organisations subscribe to it from the portal or the API)."
    )

    @Option(help: "Plan id: lower-case letters, digits and dashes (e.g. growth).") var id: String
    @Option(help: "Plan name shown to customers.") var name: String
    @Option(name: .customLong("credits-per-month"), help: "NRO credits a month (a yearly cycle gets 12×).")
    var creditsPerMonth: Int64
    @Option(help: "Monthly price per country, repeatable: US=49.00.") var monthly: [String] = []
    @Option(help: "Yearly price per country, repeatable: US=490.00.") var yearly: [String] = []
    @Option(
        name: .customLong("rollover-protection-monthly"),
        help: "The rollover-protection add-on's monthly price per country, repeatable: US=9.00."
    ) var rolloverProtectionMonthly: [String] = []
    @Flag(name: .customLong("includes-rollover-protection"), help: "Plan credits of this plan never expire.")
    var includesRolloverProtection = false
    @Option(help: "Order on the plans page.") var position: Int = 0
    @Flag(help: "Stop offering the plan (subscribers keep it until they change).") var retire = false
    @OptionGroup var database: DatabaseOptions

    /// "US=49.00" → (US, 4900).
    static func prices(_ items: [String], option: String) throws -> [Country: Int64] {
        var prices: [Country: Int64] = [:]
        for item in items {
            guard let (country, cents) = Money.countryPrice(item) else {
                throw ValidationError("--\(option) \(item): write COUNTRY=DOLLARS, e.g. US=49.00.")
            }
            prices[country] = cents
        }
        return prices
    }

    func run() async throws {
        let monthly = try Self.prices(monthly, option: "monthly")
        let yearly = try Self.prices(yearly, option: "yearly")
        let protection = try Self.prices(rolloverProtectionMonthly, option: "rollover-protection-monthly")
        var prices: [Country: PlanPrices] = [:]
        for country in Set(monthly.keys).union(yearly.keys).union(protection.keys) {
            prices[country] = PlanPrices(
                monthlyCents: monthly[country],
                yearlyCents: yearly[country],
                rolloverProtectionMonthlyCents: protection[country]
            )
        }
        let plan = CataloguePlan(
            id: id,
            name: name,
            creditsPerMonth: creditsPerMonth,
            includesRolloverProtection: includesRolloverProtection,
            prices: prices,
            position: position,
            active: !retire
        )
        try await withServices(database) { services in
            do {
                try await services.subscriptions.define(plan)
            } catch let error as SubscriptionError {
                throw ValidationError(error.message)
            }
        }
        print("Plan \(id) (\(name)): \(creditsPerMonth) credits a month\(retire ? ", retired" : "").")
    }
}

/// `textcredits plans list`: the catalogue.
struct ListPlans: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the plan catalogue.")
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let plans = try await withServices(database) { services in try await services.subscriptions.allPlans() }
        if plans.isEmpty { print("The catalogue is empty: add plans with textcredits plans define.") }
        for plan in plans {
            let prices = plan.prices.sorted { $0.key.rawValue < $1.key.rawValue }.map { country, price in
                var parts: [String] = []
                if let cents = price.monthlyCents { parts.append("\(Money.format(cents: cents))/month") }
                if let cents = price.yearlyCents { parts.append("\(Money.format(cents: cents))/year") }
                if let cents = price.rolloverProtectionMonthlyCents {
                    parts.append("rollover protection \(Money.format(cents: cents))/month")
                }
                return "\(country.rawValue) " + parts.joined(separator: ", ")
            }
            print(
                "\(plan.id)\t\(plan.name)\t\(plan.creditsPerMonth) credits/month\(plan.includesRolloverProtection ? "\trollover protection included" : "")\(plan.active ? "" : "\tretired")\t\(prices.joined(separator: "; "))"
            )
        }
    }
}

/// `textcredits plans set`: the running server grants its cycles (and catches up) within a second.
struct SetPlan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Give an organisation a plan that grants plan credits each cycle."
    )

    @Option(help: "Organisation id.") var org: String
    @Option(help: "Plan name, shown in the audit log.") var name: String
    @Option(help: "Plan credits granted each cycle.") var credits: Int64
    @Option(help: "monthly or yearly.") var cycle: String = "monthly"
    @Flag(name: .customLong("rollover-protection"), help: "Plan credits granted from now on never expire.")
    var rolloverProtection = false
    @Option(
        name: .customLong("starts-at"),
        help: "ISO 8601 start (default now); cycles begin at local midnight of that day."
    ) var startsAt: String?
    @Flag(help: "End the plan (no further cycles).") var end = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard let cycle = BillingCycle(rawValue: cycle) else {
            throw ValidationError("--cycle must be monthly or yearly.")
        }
        var start: Date?
        if let startsAt {
            guard let parsed = ISO8601DateFormatter().date(from: startsAt) else {
                throw ValidationError("--starts-at must be an ISO 8601 time.")
            }
            start = parsed
        }
        let plan = try await withServices(database) { services in
            guard try await services.stores.organizations.organization(OrganizationID(org)) != nil else {
                throw ValidationError("No organisation \(org).")
            }
            return try await services.plans.setPlan(
                OrganizationID(org),
                name: name,
                credits: credits,
                cycle: cycle,
                rolloverProtection: rolloverProtection,
                startsAt: start,
                active: !end,
                actor: commandLineOperator
            )
        }
        print(
            plan.active
                ? "Plan \(plan.name): \(plan.credits) plan credits each \(plan.cycle.rawValue) cycle from \(ISO8601DateFormatter().string(from: plan.startsAt))."
                : "Plan \(plan.name) ended."
        )
    }
}
