import CreditsCore
import CreditsStore
import Foundation

/// Balances, transfers between the pool and wallets, allotments, statements and adjustments.
/// A change to a balance is reported as a `BalanceChanged` fact for the services above.
public struct CreditService: Sendable {
    let ledgerStore: SQLLedgerStore
    let ledger: Ledger
    let organizations: OrganizationStore
    let plans: PlanStore
    let numbers: NumberStore
    let numberCharges: NumberCharges
    let database: any Database
    let principals: PrincipalResolver
    let facts: Facts
    let now: @Sendable () -> Date

    public init(
        ledgerStore: SQLLedgerStore,
        ledger: Ledger,
        organizations: OrganizationStore,
        plans: PlanStore,
        numbers: NumberStore,
        numberCharges: NumberCharges,
        database: any Database,
        principals: PrincipalResolver,
        facts: Facts,
        now: @escaping @Sendable () -> Date
    ) {
        self.principals = principals
        self.ledgerStore = ledgerStore
        self.ledger = ledger
        self.organizations = organizations
        self.plans = plans
        self.numbers = numbers
        self.numberCharges = numberCharges
        self.database = database
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
        // What is left to assign follows the capacity rule (plan, numbers, everyone's allotments).
        let unassigned = try await allotmentCapacity(for: nil, principal: principal).maximum
        return CreditsView(
            creditMode: principal.organization.creditMode,
            pool: poolView,
            wallets: wallets,
            allotments: AllotmentView(assigned: assigned, unassigned: unassigned)
        )
    }

    /// Moves credits between the pool and wallets (lots and their expiry move with them).
    public func transfer(_ principal: Principal, _ input: TransferInput, idempotencyKey: String) async throws
        -> TransferView
    {
        guard input.credits.isPositive else { throw CreditError.transferNotPositive }
        let (from, fromStaff) = try await account(input.from, principal: principal, field: "from")
        let (to, toStaff) = try await account(input.to, principal: principal, field: "to")
        // Master users move credits anywhere; everyone else only their own back to the system.
        if !principal.can(.manageUserCredits) {
            guard fromStaff?.id == principal.staff.id, to.kind == .pool else {
                throw AccessError(.manageUserCredits)
            }
        }
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

    /// What a phone number costs each month.
    public func monthlyCredits(of number: AssignedNumber, in country: Country) -> Credits {
        Credits(credits: numberCharges.credits(kind: number.kind, country: country))
    }

    /// What the organisation has to assign as monthly allotments, seen from one staff member
    /// (the PastorsLine page: "the credits on your plan excluding the credits being used by your
    /// phone numbers and the credits assigned to other users"). Without a plan, what the pool
    /// holds now stands in for the plan's credits.
    public func allotmentCapacity(for staff: StaffMember?, principal: Principal) async throws -> AllotmentCapacityView {
        let organization = principal.organization
        let members = try await organizations.staff(of: organization.id)
        let others = members.filter { $0.id != staff?.id }.reduce(Credits.zero) { $0 + $1.monthlyAllotment }
        let pool = try await available(try await pool(of: organization.id), of: organization.id)
        var planMonthly: Credits?
        if let plan = try await plans.plan(organization.id), plan.active, plan.status != .cancelled {
            planMonthly = Credits(credits: plan.credits / plan.cycle.months)
        }
        let numbersMonthly = try await numbers.numbers(of: organization.id).reduce(Credits.zero) {
            $0 + monthlyCredits(of: $1, in: organization.country)
        }
        let base = planMonthly ?? pool
        let capacity = max(.zero, base - numbersMonthly)
        let wallet = try await staff?.wallet.asyncMap { try await self.account($0, of: organization.id) } ?? nil
        let walletAvailable = try await wallet.asyncMap { try await self.available($0, of: organization.id) }
        return AllotmentCapacityView(
            companyCredits: pool,
            planCreditsPerMonth: planMonthly,
            numbersPerMonth: numbersMonthly,
            othersPerMonth: others,
            maximum: AllotmentRule.maximum(capacity: capacity, othersTotal: others),
            staffCredits: walletAvailable,
            staffCreditsPerMonth: staff?.monthlyAllotment,
            shared: staff?.role.sharesPool ?? false
        )
    }

    /// Checks a monthly allotment against what the organisation has unassigned
    /// ("Credits per Month cannot be greater than N").
    public func checkAllotment(_ credits: Credits, for staff: StaffMember?, principal: Principal) async throws {
        let capacity = try await allotmentCapacity(for: staff, principal: principal)
        do {
            try AllotmentRule.check(credits, capacity: capacity.maximum, othersTotal: .zero)
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

    /// The accounts a principal may manage, with their names: the pool ("System credits") and
    /// every wallet for master users and log readers; otherwise their own wallet alone.
    public func managedAccounts(_ principal: Principal) async throws -> [(
        account: LedgerAccount, reference: String, name: String
    )] {
        let accounts = try await ledgerStore.accounts(of: principal.organizationID)
        let seesAll = principal.can(.viewLogs) || principal.can(.manageUserCredits)
        var managed: [(LedgerAccount, String, String)] = []
        if seesAll, let pool = accounts.first(where: { $0.kind == .pool }) {
            managed.append((pool, "pool", "System credits"))
        }
        for member in try await organizations.staff(of: principal.organizationID)
        where seesAll || member.id == principal.staff.id {
            guard let wallet = member.wallet, let account = accounts.first(where: { $0.id == wallet }) else { continue }
            managed.append((account, member.id, member.name))
        }
        return managed
    }

    /// `GET /v1/credits/entries` without a wallet (the Agentbox page's "View Last 30 Days Logs"):
    /// every incoming and outgoing credit of the accounts the principal may manage in one list,
    /// oldest first, each line naming its account; `only` narrows it to one of them.
    public func combinedStatement(
        _ principal: Principal,
        only: String?,
        since: Date?,
        until: Date?,
        afterID: Int64?,
        limit: Int
    ) async throws -> [StatementLine] {
        var managed = try await managedAccounts(principal)
        guard !managed.isEmpty else { throw AccessError(.viewLogs) }
        if let only {
            managed = managed.filter { $0.reference == only || $0.account.id.rawValue == only }
            guard !managed.isEmpty else { throw CreditError.unknownAccount(reference: only, field: "account") }
        }
        let names = Dictionary(uniqueKeysWithValues: managed.map { ($0.account.id, ($0.reference, $0.name)) })
        return try await ledgerStore.combinedStatement(
            accounts: managed.map(\.account.id),
            organization: principal.organizationID,
            since: since,
            until: until,
            afterID: afterID,
            limit: limit
        ).map { account, line in
            var line = line
            line.account = names[account]?.0
            line.accountName = names[account]?.1
            return line
        }
    }

    /// `PUT /v1/organization/credit-mode` (the Agentbox page's "client change request"): an
    /// owner switches between one shared pool and individual credits. To individual, staff
    /// who do not share the pool get a wallet (the pool stays as the system credits); to
    /// shared, every wallet's credits move back to the pool as transfers (their lots keep
    /// their expiry). Refused while a wallet holds credits for messages in flight. Audited.
    public func setCreditMode(_ principal: Principal, _ input: CreditModeInput) async throws -> CreditsView {
        guard principal.staff.role == .owner else { throw CreditError.ownerOnlyModeSwitch }
        guard let mode = CreditMode(rawValue: input.mode) else { throw CreditError.unknownMode(input.mode) }
        guard let organization = try await organizations.organization(principal.organizationID) else {
            throw NotFoundError("The organisation")
        }
        guard organization.creditMode != mode else {
            var current = principal
            current.organization = organization
            return try await view(current)
        }
        let instant = now()
        let accounts = try await ledgerStore.accounts(of: organization.id)
        guard let pool = accounts.first(where: { $0.kind == .pool }) else { throw NotFoundError("The credit pool") }
        let staff = try await organizations.staff(of: organization.id)
        var requests: [LedgerRequest] = []
        var walletsToMake: [StaffMember] = []
        var moved = Credits.zero
        if mode == .shared {
            for member in staff {
                guard let wallet = member.wallet, let account = accounts.first(where: { $0.id == wallet }) else {
                    continue
                }
                if account.pending.isPositive {
                    throw CreditError.messagesInFlight(staffName: member.name, pending: account.pending)
                }
                let amount = try await available(account, of: organization.id)
                guard amount.isPositive else { continue }
                moved += amount
                requests.append(
                    LedgerRequest(
                        organization: organization.id,
                        idempotencyKey: "credit-mode:shared:\(instant.milliseconds):\(wallet)",
                        operation: .transfer(from: wallet, to: pool.id, amount: amount),
                        at: instant,
                        actor: principal.actor.reference,
                        memo: "Switch to shared credits: \(member.name)'s credits returned to the system",
                        audit: AuditRecord(
                            organization: organization.id,
                            actor: principal.actor,
                            action: .creditsReturned,
                            message:
                                "\(amount) credits of \(member.name) returned to the system credits (switch to shared credits).",
                            subjectType: "staff",
                            subjectID: member.id,
                            at: instant
                        )
                    )
                )
            }
        } else {
            walletsToMake = staff.filter { $0.wallet == nil && !$0.role.sharesPool }
        }
        let audit = AuditRecord(
            organization: organization.id,
            actor: principal.actor,
            action: .creditModeChanged,
            message: mode == .individual
                ? "Switched to individual user credits: \(walletsToMake.count) staff got a wallet of their own; the pool stays as the system credits."
                : "Switched to shared credits: \(moved) credits moved from staff wallets to the pool.",
            subjectType: "organization",
            subjectID: organization.id.rawValue,
            at: instant
        )
        let ledgerStore = ledgerStore
        let (batch, makeWallets) = (requests, walletsToMake)
        try await database.unitOfWork { work in
            for result in try await ledgerStore.apply(batch, in: work) { _ = try result.get() }
            for member in makeWallets {
                try await OrganizationStore.giveWallet(to: member.id, of: organization.id, at: instant, in: work)
            }
            try await OrganizationStore.setCreditMode(organization.id, to: mode, audit: audit, in: work)
        }
        principals.invalidate()
        await facts.publish(
            .balanceChanged(BalanceChanged(organization: organization.id, account: pool.id, isPool: true))
        )
        var switched = principal
        switched.organization.creditMode = mode
        return try await view(switched)
    }

    /// `textcredits orgs mark-spam`: the operator closes an account as spam. Every credit left —
    /// purchased (FRO) ones too, the only case they are removed (the PastorsLine page) — moves
    /// to `expired`, audited; the subscription ends and nothing more can be bought. Credits held
    /// for messages in flight settle as usual. Returns the credits removed.
    public func closeAsSpam(_ organization: OrganizationID, reason: String, actor: Actor) async throws -> Credits {
        let reason = try InputRules.name(reason, field: "reason", limit: 500)
        let instant = now()
        var lotIDs = Set<LotID>()
        var total = Credits.zero
        for account in try await ledgerStore.accounts(of: organization) where account.kind.holdsCredits {
            for (lot, portion) in try await ledgerStore.lots(of: account.id, organization: organization)
            where lot.kind != .overdraft && portion.free.isPositive {
                lotIDs.insert(lot.id)
                total += portion.free
            }
        }
        let requests = lotIDs.sorted { $0.rawValue < $1.rawValue }.map { lot in
            LedgerRequest(
                organization: organization,
                idempotencyKey: "spam:\(lot)",
                operation: .forfeit(lot: lot),
                at: instant,
                actor: actor.reference,
                memo: "Account closed as spam: credits removed",
                audit: AuditRecord(
                    organization: organization,
                    actor: actor,
                    action: .creditsExpired,
                    message: "\(.counted("credit")) removed: the account was closed as spam.",
                    subjectType: "lot",
                    subjectID: lot.rawValue,
                    at: instant
                )
            )
        }
        let audit = AuditRecord(
            organization: organization,
            actor: actor,
            action: .markedSpam,
            message: AuditText("Account closed as spam (\(reason)): \(total) credits removed, the plan ended."),
            subjectType: "organization",
            subjectID: organization.rawValue,
            at: instant
        )
        var plan = try await plans.plan(organization)
        plan?.active = false
        plan?.status = .cancelled
        plan?.updatedAt = instant
        let (ledgerStore, ended) = (ledgerStore, plan)
        try await database.unitOfWork { work in
            for result in try await ledgerStore.apply(requests, in: work) { _ = try result.get() }
            if let ended { try await PlanStore.save(ended, now: instant, audits: [], in: work) }
            try await OrganizationStore.markSpam(organization, at: instant, audit: audit, in: work)
        }
        principals.invalidate()
        return total
    }

    /// Credits spent on messages per day, for the dashboard's chart (one range scan).
    public func usage(_ principal: Principal, boundaries: [Date]) async throws -> [(total: Credits, voice: Credits)] {
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
