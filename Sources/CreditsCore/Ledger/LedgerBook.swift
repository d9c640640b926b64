import Foundation

/// One organisation's ledger in memory: the state machine of DESIGN §2.
///
/// The store loads a book inside a transaction, applies a batch of requests with `apply(_:)`,
/// and writes `changes` back in the same transaction. Every rule lives here and reads no clock:
/// each request carries its instant. A refused request changes nothing.
public struct LedgerBook: Sendable {
    /// Whose ledger this is.
    public let organization: OrganizationID
    /// Every account of the organisation, with current balances.
    public internal(set) var accounts: [AccountID: LedgerAccount]
    /// Lots that have a portion in the book, plus lots created by this batch.
    public internal(set) var lots: [LotID: Lot]
    /// Non-zero portions of every account.
    public internal(set) var portions: [PortionKey: Portion]
    /// Holds referenced by the batch.
    public internal(set) var holds: [HoldID: Hold]
    /// Earlier results by idempotency key: (fingerprint digest, outcome).
    private var results: [String: (fingerprint: String, outcome: LedgerOutcome)]
    /// What this batch changed.
    public internal(set) var changes = LedgerChanges()
    /// Makes ids for transfer records.
    private let makeTransferID: @Sendable () -> TransferID

    /// Portions each account has, for spending order and invariants.
    private var lotsByAccount: [AccountID: Set<LotID>] = [:]

    /// A book over loaded state.
    public init(
        organization: OrganizationID,
        accounts: [LedgerAccount],
        lots: [Lot],
        portions: [PortionKey: Portion],
        holds: [Hold],
        results: [String: (fingerprint: String, outcome: LedgerOutcome)],
        makeTransferID: @escaping @Sendable () -> TransferID
    ) {
        self.organization = organization
        self.accounts = Dictionary(uniqueKeysWithValues: accounts.map { ($0.id, $0) })
        self.lots = Dictionary(uniqueKeysWithValues: lots.map { ($0.id, $0) })
        self.portions = portions
        self.holds = Dictionary(uniqueKeysWithValues: holds.map { ($0.id, $0) })
        self.results = results
        self.makeTransferID = makeTransferID
        for key in portions.keys { lotsByAccount[key.account, default: []].insert(key.lot) }
    }

    /// The organisation's outside account of a kind.
    public func outsideAccount(_ kind: AccountKind) -> LedgerAccount? {
        precondition(!kind.holdsCredits, "pools and wallets are looked up by id")
        return accounts.values.first { $0.kind == kind }
    }

    /// Applies one request; on refusal nothing changes (each operation validates before it
    /// mutates, so no snapshot of the book is needed).
    public mutating func apply(_ request: LedgerRequest) -> Result<LedgerOutcome, LedgerError> {
        let key = request.idempotencyKey
        guard !key.isEmpty, key.count <= LedgerRequest.idempotencyKeyLengthMax else {
            return .failure(.invalidIdempotencyKey)
        }
        precondition(request.organization == organization, "a request is applied to its own organisation's book")
        let fingerprint = request.operation.fingerprintDigest
        if let earlier = results[key] {
            guard earlier.fingerprint == fingerprint else { return .failure(.idempotencyConflict(key: key)) }
            var replay = earlier.outcome
            replay.replayed = true
            return .success(replay)
        }
        let sumBefore = totalBalance()
        let changeCount = (changes.entries.count, changes.portions.count, changes.holds.count, changes.lots.count)
        do {
            let outcome = try perform(request, transfer: makeTransferID())
            precondition(totalBalance() == sumBefore, "double entry: the sum over all accounts never changes")
            results[key] = (fingerprint, outcome)
            changes.transfers.append((request, outcome, fingerprint))
            return .success(outcome)
        } catch {
            // Every operation checks everything before it changes anything, so a refusal leaves
            // the book as it was; this post-condition holds them to it.
            precondition(totalBalance() == sumBefore, "a refused operation changes nothing")
            precondition(
                changeCount == (changes.entries.count, changes.portions.count, changes.holds.count, changes.lots.count),
                "a refused operation records no change"
            )
            return .failure(error)
        }
    }

    private mutating func perform(_ request: LedgerRequest, transfer: TransferID) throws(LedgerError) -> LedgerOutcome {
        let at = request.at
        switch request.operation {
        case .deposit(let account, let source, let amount, let lot, let kind, let expiresAt):
            return try deposit(
                account,
                from: source,
                amount: amount,
                lot: lot,
                kind: kind,
                expiresAt: expiresAt,
                at: at,
                transfer: transfer
            )
        case .withdraw(let account, let amount):
            return try withdraw(account, amount: amount, at: at, transfer: transfer)
        case .transfer(let from, let to, let amount):
            return try move(from: from, to: to, amount: amount, at: at, transfer: transfer)
        case .reserve(let hold, let account, let amount, let reference, let timeoutAt):
            return try reserve(
                hold,
                on: account,
                amount: amount,
                reference: reference,
                timeoutAt: timeoutAt,
                at: at,
                transfer: transfer
            )
        case .reserveAll(let account, let holds):
            return try reserveAll(holds, on: account, at: at, transfer: transfer)
        case .post(let hold, let amount):
            return try resolve(hold, charging: amount, as: .posted, at: at, transfer: transfer)
        case .void(let hold):
            return try resolve(hold, charging: .zero, as: .voided, at: at, transfer: transfer)
        case .timeOut(let hold, let policy):
            guard let current = holds[hold] else { throw .unknownHold(hold) }
            guard current.status == .pending else { throw .holdAlreadyResolved(hold, current.status) }
            guard current.timeoutAt <= at else { throw .holdNotTimedOut(hold) }
            return try resolve(
                hold,
                charging: policy == .post ? current.amount : .zero,
                as: .timedOut,
                at: at,
                transfer: transfer
            )
        case .expire(let lot):
            return try expire(lot, at: at, transfer: transfer)
        case .forfeit(let lot):
            return try expire(lot, at: at, transfer: transfer, forfeit: true)
        case .spend(let account, let amount, let reference):
            return try spend(account, amount: amount, reference: reference, at: at, transfer: transfer)
        }
    }

    // MARK: Reading

    /// Credits an account can reserve or spend at an instant: free credits of unexpired lots
    /// plus what is left of its overdraft line.
    public func spendable(_ account: AccountID, at instant: Date, includingOverdraft: Bool = true) -> Credits {
        guard let state = accounts[account] else { return .zero }
        var total = Credits.zero
        for lotID in lotsByAccount[account] ?? [] {
            guard let lot = lots[lotID], lot.kind != .overdraft, !lot.isExpired(at: instant),
                let portion = portions[PortionKey(account: account, lot: lotID)]
            else { continue }
            total += portion.free
        }
        return includingOverdraft ? total + overdraftRoom(state) : total
    }

    /// What is left of an account's overdraft line.
    func overdraftRoom(_ account: LedgerAccount) -> Credits {
        let used =
            portions[PortionKey(account: account.id, lot: LedgerBook.overdraftLot(of: account.id))].map { -$0.free }
            ?? .zero
        return max(.zero, account.overdraftLimit - used)
    }

    /// The id of an account's overdraft lot (one per account, made when first needed).
    public static func overdraftLot(of account: AccountID) -> LotID { LotID("overdraft-" + account.rawValue) }

    /// Sum of all account balances: zero in a complete book, and constant under every operation.
    func totalBalance() -> Credits { accounts.values.reduce(.zero) { $0 + $1.balance } }

    // MARK: Shared mechanics

    /// The pool or wallet with that id, or the reason it cannot hold credits.
    func creditAccount(_ id: AccountID) throws(LedgerError) -> LedgerAccount {
        guard let account = accounts[id] else { throw .unknownAccount(id) }
        guard account.kind.holdsCredits else { throw .wrongAccountKind(id, account.kind) }
        return account
    }

    /// Chooses lot portions for `amount` in spending order, then the overdraft line if allowed.
    func allocate(_ amount: Credits, from account: LedgerAccount, at instant: Date, overdraft: Bool) throws(LedgerError)
        -> [HoldPortion]
    {
        guard amount.isPositive else { throw .nonPositiveAmount }
        let candidates = (lotsByAccount[account.id] ?? []).compactMap { id -> Lot? in
            guard let lot = lots[id], lot.kind != .overdraft, !lot.isExpired(at: instant),
                (portions[PortionKey(account: account.id, lot: id)]?.free ?? .zero).isPositive
            else { return nil }
            return lot
        }.sorted(by: Lot.spendsBefore)
        var remaining = amount
        var chosen: [HoldPortion] = []
        for lot in candidates where remaining.isPositive {
            let free = portions[PortionKey(account: account.id, lot: lot.id)]?.free ?? .zero
            let take = min(free, remaining)
            chosen.append(HoldPortion(lot: lot.id, amount: take))
            remaining -= take
        }
        if remaining.isPositive && overdraft && overdraftRoom(account) >= remaining {
            chosen.append(HoldPortion(lot: LedgerBook.overdraftLot(of: account.id), amount: remaining))
            remaining = .zero
        }
        guard !remaining.isPositive else {
            throw .insufficientCredits(
                available: spendable(account.id, at: instant, includingOverdraft: overdraft),
                requested: amount
            )
        }
        return chosen
    }

    /// Changes a portion and records it; keeps the account→lots index.
    mutating func adjustPortion(_ key: PortionKey, balance: Credits = .zero, held: Credits = .zero) {
        var portion = portions[key] ?? Portion()
        portion.balance += balance
        portion.held += held
        portions[key] = portion
        changes.portions[key] = portion
        lotsByAccount[key.account, default: []].insert(key.lot)
    }

    /// Makes the overdraft lot of an account if it does not exist yet.
    mutating func ensureOverdraftLot(of account: AccountID, at instant: Date) {
        let id = LedgerBook.overdraftLot(of: account)
        guard lots[id] == nil else { return }
        let lot = Lot(id: id, kind: .overdraft, amount: .zero, expiresAt: nil, createdAt: instant)
        lots[id] = lot
        changes.lots.append(lot)
    }

    /// Posts one entry: balances of both accounts and the lot movements it carries.
    mutating func post(
        entry debit: AccountID,
        to credit: AccountID,
        amount: Credits,
        movements: [LotMovement],
        reference: String?,
        hold: HoldID?,
        at instant: Date,
        transfer: TransferID
    ) {
        guard amount.isPositive else { return }
        for (id, expected) in [(debit, -amount), (credit, amount)] where accounts[id]?.kind.holdsCredits == true {
            let moved = movements.filter { $0.account == id }.reduce(Credits.zero) { $0 + $1.delta }
            precondition(moved == expected, "lot movements of a pool or wallet add up to the entry amount")
        }
        accounts[debit]?.balance -= amount
        accounts[credit]?.balance += amount
        for movement in movements {
            adjustPortion(PortionKey(account: movement.account, lot: movement.lot), balance: movement.delta)
        }
        for id in [debit, credit] { if let account = accounts[id] { changes.accounts[id] = account } }
        let entry = LedgerEntry(
            transfer: transfer,
            debit: debit,
            credit: credit,
            amount: amount,
            debitBalanceAfter: accounts[debit]?.balance ?? .zero,
            creditBalanceAfter: accounts[credit]?.balance ?? .zero,
            reference: reference,
            hold: hold,
            at: instant,
            lotMovements: movements
        )
        changes.entries.append(entry)
        for id in [debit, credit] { assertPortionsMatch(id) }
    }

    /// Post-condition of every movement: a pool's or wallet's lots sum to its balance and holds.
    func assertPortionsMatch(_ id: AccountID) {
        guard let account = accounts[id], account.kind.holdsCredits else { return }
        var balance = Credits.zero
        var held = Credits.zero
        for lot in lotsByAccount[id] ?? [] {
            guard let portion = portions[PortionKey(account: id, lot: lot)] else { continue }
            balance += portion.balance
            held += portion.held
        }
        precondition(balance == account.balance, "lots sum to the account balance")
        precondition(held == account.pending, "held portions sum to the account's pending holds")
        precondition(account.balance >= -account.overdraftLimit, "no account below its overdraft line")
    }
}
