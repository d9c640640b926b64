import CreditsCore
import CreditsStore
import Synchronization

/// Something a service did that services above it may act on. A lower service reports the fact;
/// it never calls the service that cares (that would make the graph circular).
public enum Fact: Sendable {
    /// Credits left a pool or wallet, or came into it.
    case balanceChanged(BalanceChanged)
    /// A new payment method is on file.
    case paymentMethodChanged(Organization)
    /// A purchase left pending reached its final status when its charge was looked up later.
    case purchaseFinished(Purchase)
}

/// A pool's or wallet's balance moved.
public struct BalanceChanged: Sendable {
    /// Whose ledger.
    public var organization: OrganizationID
    /// The pool or wallet.
    public var account: AccountID
    /// Whether it is the pool (auto-renew watches the pool).
    public var isPool: Bool
    /// The staff member whose send spent the credits (they get the low-balance mail), if a send did.
    public var spentBy: Principal?

    public init(organization: OrganizationID, account: AccountID, isPool: Bool, spentBy: Principal? = nil) {
        self.organization = organization
        self.account = account
        self.isPool = isPool
        self.spentBy = spentBy
    }
}

/// Delivers facts to the services that subscribed, in the order they subscribed, before
/// `publish` returns. The composition root subscribes them while building the graph; a handler
/// never throws (it logs what goes wrong) so one reaction cannot undo the change it reacts to.
public final class Facts: Sendable {
    /// A reaction to facts.
    public typealias Handler = @Sendable (Fact) async -> Void

    private let handlers = Mutex<[Handler]>([])

    public init() {}

    /// Adds a reaction (the composition root calls this while building the services).
    public func subscribe(_ handler: @escaping Handler) {
        handlers.withLock { $0.append(handler) }
    }

    /// Tells every subscriber, in order.
    public func publish(_ fact: Fact) async {
        for handler in handlers.withLock({ $0 }) { await handler(fact) }
    }
}
