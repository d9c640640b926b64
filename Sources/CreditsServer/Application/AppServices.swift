import CreditsCore
import CreditsStore
import Foundation
import Logging

/// The assembled parts of a running server: the store, the ledger and the services every route,
/// page and worker uses. One instance per process.
public final class AppServices: Sendable {
    public let configuration: AppConfiguration
    public let database: any Database
    public let ledger: Ledger
    public let ledgerStore: SQLLedgerStore
    public let organizations: OrganizationStore
    public let contacts: ContactStore
    public let principals: PrincipalResolver
    /// The clock every rule is given; tests inject their own.
    public let now: @Sendable () -> Date
    public let logger: Logger

    public init(configuration: AppConfiguration, database: any Database, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.ledgerStore = SQLLedgerStore(database: database)
        self.ledger = Ledger(store: ledgerStore)
        self.organizations = OrganizationStore(database: database)
        self.contacts = ContactStore(database: database)
        self.principals = PrincipalResolver(organizations: organizations, now: now)
        self.now = now
        self.logger = logger
    }

    /// Organisation, staff and key administration.
    public var administration: AdministrationService { AdministrationService(services: self) }
    /// Credits: balances, transfers, allotments, statements, adjustments.
    public var credits: CreditService { CreditService(services: self) }
    /// Contacts, groups and consent.
    public var contactService: ContactService { ContactService(services: self) }
}
