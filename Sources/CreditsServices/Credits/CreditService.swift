import CreditsCore
import CreditsStore
import Foundation

/// Balances, transfers between the pool and wallets, allotments, statements and adjustments.
/// A change to a balance is reported as a `BalanceChanged` fact for the services above.
public struct CreditService: Sendable {
    let ledgerStore: SQLLedgerStore
    let ledger: Ledger
    let organizations: OrganizationStore
    let facts: Facts
    let now: @Sendable () -> Date

    public init(
        ledgerStore: SQLLedgerStore,
        ledger: Ledger,
        organizations: OrganizationStore,
        facts: Facts,
        now: @escaping @Sendable () -> Date
    ) {
        self.ledgerStore = ledgerStore
        self.ledger = ledger
        self.organizations = organizations
        self.facts = facts
        self.now = now
    }

    /// Most lines one statement read returns (a page, or a whole CSV).
    public static var statementPageMax: Int { SQLLedgerStore.statementPageMax }

    /// The organisation's pool account.
    public func pool(of organization: OrganizationID) async throws -> LedgerAccount {
        guard let pool = try await ledgerStore.accounts(of: organization).first(where: { $0.kind == .pool }) else {
            throw NotFoundError("The credit pool")
        }
        return pool
    }

    /// The account a principal sends from: the pool, or their own wallet in individual-credits mode.
    public func sendingAccount(_ principal: Principal) async throws -> LedgerAccount {
        let accounts = try await ledgerStore.accounts(of: principal.organizationID)
        if principal.organization.creditMode == .individual, !principal.staff.role.sharesPool,
            let wallet = principal.staff.wallet,
            let account = accounts.first(where: { $0.id == wallet })
        {
            return account
        }
        guard let pool = accounts.first(where: { $0.kind == .pool }) else { throw NotFoundError("The credit pool") }
        return pool
    }

    /// What an account can spend now: its balance less its holds and expired lots.
    public func available(_ account: LedgerAccount, of organization: OrganizationID) async throws -> Credits {
        let lots = try await ledgerStore.lots(of: account.id, organization: organization)
        return AccountView(account: account, lots: lots, at: now()).available
    }

    /// One account of an organisation as it is now.
    public func account(_ id: AccountID, of organization: OrganizationID) async throws -> LedgerAccount? {
        try await ledgerStore.accounts(of: organization).first { $0.id == id }
    }

    /// Resolves "pool", a staff id (their wallet) or an account id to an account of the organisation.
    public func account(_ reference: String, principal: Principal, field: String) async throws -> (
        LedgerAccount, StaffMember?
    ) {
        let accounts = try await ledgerStore.accounts(of: principal.organizationID)
        if reference == "pool", let pool = accounts.first(where: { $0.kind == .pool }) { return (pool, nil) }
        if let staff = try await organizations.staffMember(reference, of: principal.organizationID) {
            guard let wallet = staff.wallet, let account = accounts.first(where: { $0.id == wallet }) else {
                if principal.organization.creditMode == .shared { throw CreditError.individualCreditsOff }
                throw CreditError.noWallet(staffName: staff.name)
            }
            return (account, staff)
        }
        if let account = accounts.first(where: { $0.id.rawValue == reference && $0.kind.holdsCredits }) {
            let staff = try await organizations.staff(of: principal.organizationID).first { $0.wallet == account.id }
            return (account, staff)
        }
        throw CreditError.unknownAccount(reference: reference, field: field)
    }

    /// `GET /v1/credits`: the pool and wallets with their lots. Staff who cannot manage credits
    /// or read logs see the pool and their own wallet only.
    public func view(_ principal: Principal) async throws -> CreditsView {
        let organization = principal.organizationID
        let instant = now()
        let accounts = try await ledgerStore.accounts(of: organization)
        let staff = try await organizations.staff(of: organization)
        guard let pool = accounts.first(where: { $0.kind == .pool }) else { throw NotFoundError("The credit pool") }
        let seesAll = principal.can(.manageUserCredits) || principal.can(.viewLogs)
        var wallets: [AccountView] = []
        for member in staff {
            guard let walletID = member.wallet, let account = accounts.first(where: { $0.id == walletID }) else {
                continue
            }
            guard seesAll || member.id == principal.staff.id else { continue }
            var view = AccountView(
                account: account,
                lots: try await ledgerStore.lots(of: account.id, organization: organization),
                at: instant
            )
            view.staffID = member.id
            view.staffName = member.name
            view.creditsPerMonth = member.monthlyAllotment
            wallets.append(view)
        }
        let poolView = AccountView(
            account: pool,
            lots: try await ledgerStore.lots(of: pool.id, organization: organization),
            at: instant
        )
        let assigned = staff.reduce(Credits.zero) { $0 + $1.monthlyAllotment }
        return CreditsView(
            creditMode: principal.organization.creditMode,
            pool: poolView,
            wallets: wallets,
            allotments: AllotmentView(assigned: assigned, unassigned: max(.zero, poolView.available - assigned))
        )
    }

    /// Moves credits between the pool and wallets (lots and their expiry move with them).
    public func transfer(_ principal: Principal, _ input: TransferInput, idempotencyKey: String) async throws
        -> TransferView
    {
        try principal.require(.manageUserCredits)
        guard input.credits.isPositive else { throw CreditError.transferNotPositive }
        let (from, fromStaff) = try await account(input.from, principal: principal, field: "from")
        let (to, toStaff) = try await account(input.to, principal: principal, field: "to")
        let fromName = fromStaff?.name ?? "the pool"
        let toName = toStaff?.name ?? "the pool"
        let instant = now()
        let request = LedgerRequest(
            organization: principal.organizationID,
            idempotencyKey: IdempotencyKeys.scoped("api-transfer:", idempotencyKey),
            operation: .transfer(from: from.id, to: to.id, amount: input.credits),
            at: instant,
            actor: principal.actor.reference,
            memo: input.note.map { "Transfer: \($0)" } ?? "Transfer from \(fromName) to \(toName)",
            audit: AuditRecord(
                organization: principal.organizationID,
                actor: principal.actor,
                action: .creditsTransferred,
                message: "\(input.credits) credits transferred from \(fromName) to \(toName).",
                subjectType: "transfer",
                subjectID: nil,
                at: instant
            )
        )
        let outcome = try await ledger.apply(request).get()
        for account in [from, to] where account.kind == .pool {
            await facts.publish(
                .balanceChanged(
                    BalanceChanged(organization: principal.organizationID, account: account.id, isPool: true)
                )
            )
        }
        return TransferView(
            transferID: outcome.transfer,
            from: input.from,
            to: input.to,
            credits: input.credits,
            replayed: outcome.replayed
        )
    }

    /// Checks a monthly allotment against what the organisation has unassigned
    /// ("Credits per month cannot be greater than N").
    public func checkAllotment(_ credits: Credits, for staff: StaffMember?, principal: Principal) async throws {
        let members = try await organizations.staff(of: principal.organizationID)
        let others = members.filter { $0.id != staff?.id }.reduce(Credits.zero) { $0 + $1.monthlyAllotment }
        let capacity = try await available(try await pool(of: principal.organizationID), of: principal.organizationID)
        do {
            try AllotmentRule.check(credits, capacity: capacity, othersTotal: others)
        } catch {
            throw CreditError.allotmentTooLarge(error)
        }
    }

    /// Sends everything in a wallet back to the pool (before its owner is deleted).
    public func returnWalletToPool(_ wallet: AccountID, of staff: StaffMember, principal: Principal) async throws {
        let accounts = try await ledgerStore.accounts(of: principal.organizationID)
        guard let account = accounts.first(where: { $0.id == wallet }),
            let pool = accounts.first(where: { $0.kind == .pool })
        else { return }
        if account.pending.isPositive {
            throw CreditError.messagesInFlight(staffName: staff.name, pending: account.pending)
        }
        guard account.balance.isPositive else { return }
        let instant = now()
        let request = LedgerRequest(
            organization: principal.organizationID,
            idempotencyKey: "staff-delete:\(staff.id)",
            operation: .transfer(from: wallet, to: pool.id, amount: account.balance),
            at: instant,
            actor: principal.actor.reference,
            memo: "Credits of deleted staff member \(staff.name) returned to the pool",
            audit: AuditRecord(
                organization: principal.organizationID,
                actor: principal.actor,
                action: .creditsReturned,
                message: "\(account.balance) credits of \(staff.name) returned to the pool.",
                subjectType: "staff",
                subjectID: staff.id,
                at: instant
            )
        )
        _ = try await ledger.apply(request).get()
    }

    /// A statement: an account's entries with running balances.
    public func statement(
        _ principal: Principal,
        account reference: String,
        since: Date?,
        until: Date?,
        afterID: Int64?,
        limit: Int
    ) async throws -> (account: LedgerAccount, lines: [StatementLine]) {
        let (account, staff) = try await account(reference, principal: principal, field: "wallet")
        if !(principal.can(.viewLogs) || principal.can(.manageUserCredits) || staff?.id == principal.staff.id) {
            throw AccessError(.viewLogs)
        }
        let lines = try await ledgerStore.statement(
            account: account.id,
            organization: principal.organizationID,
            since: since,
            until: until,
            afterID: afterID,
            limit: limit
        )
        return (account, lines)
    }

    /// Credits spent on messages per day, for the dashboard's chart (one range scan).
    public func usage(_ principal: Principal, boundaries: [Date]) async throws -> [Credits] {
        try await ledgerStore.usage(of: principal.organizationID, boundaries: boundaries)
    }

    /// An operator's adjustment (goodwill credits or a correction), into or out of the pool.
    public func adjust(_ organization: OrganizationID, credits: Credits, reason: String, actor: Actor) async throws
        -> LedgerOutcome
    {
        guard credits != .zero else { throw CreditError.adjustmentZero }
        let reason = try InputRules.name(reason, field: "reason", limit: 500)
        let pool = try await pool(of: organization)
        let instant = now()
        let operation: LedgerOperation =
            credits.isPositive
            ? .deposit(
                account: pool.id,
                source: .adjustments,
                amount: credits,
                lot: LotID(Identifier.make("lot_")),
                kind: .adjustment,
                expiresAt: nil
            )
            : .withdraw(account: pool.id, amount: -credits)
        let sentence =
            credits.isPositive
            ? "\(credits) credits added by adjustment: \(reason)"
            : "\(-credits) credits removed by adjustment: \(reason)"
        let stop = reason.hasSuffix(".") || reason.hasSuffix("!") || reason.hasSuffix("?") ? "" : "."
        let request = LedgerRequest(
            organization: organization,
            idempotencyKey: Identifier.make("adjust_"),
            operation: operation,
            at: instant,
            actor: actor.reference,
            memo: sentence,
            audit: AuditRecord(
                organization: organization,
                actor: actor,
                action: .creditsAdjusted,
                message: "\(sentence)\(stop) Pool balance \(.balanceAfter).",
                subjectType: "organization",
                subjectID: organization.rawValue,
                at: instant
            )
        )
        let outcome = try await ledger.apply(request).get()
        await facts.publish(.balanceChanged(BalanceChanged(organization: organization, account: pool.id, isPool: true)))
        return outcome
    }
}
