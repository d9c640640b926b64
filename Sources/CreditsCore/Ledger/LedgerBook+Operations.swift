import Foundation

extension LedgerBook {
    /// Credits enter a pool or wallet from a source account as a new lot.
    mutating func deposit(
        _ id: AccountID,
        from source: AccountKind,
        amount: Credits,
        lot lotID: LotID,
        kind: LotKind,
        expiresAt: Date?,
        at instant: Date,
        transfer: TransferID
    ) throws(LedgerError) -> LedgerOutcome {
        guard amount.isPositive else { throw .nonPositiveAmount }
        let account = try creditAccount(id)
        guard source.isSource, let sourceAccount = outsideAccount(source) else { throw .wrongAccountKind(id, source) }
        guard kind != .overdraft else { throw .wrongAccountKind(id, account.kind) }
        guard lots[lotID] == nil else { throw .duplicateID(lotID.rawValue) }
        let lot = Lot(id: lotID, kind: kind, amount: amount, expiresAt: expiresAt, createdAt: instant)
        lots[lotID] = lot
        changes.lots.append(lot)
        let movements = receive([HoldPortion(lot: lotID, amount: amount)], into: id)
        post(
            entry: sourceAccount.id,
            to: id,
            amount: amount,
            movements: movements,
            reference: nil,
            hold: nil,
            at: instant,
            transfer: transfer
        )
        return outcome(transfer, "deposit", amount: amount, account: id, at: instant)
    }

    /// Available credits leave a pool or wallet to `adjustments`.
    mutating func withdraw(_ id: AccountID, amount: Credits, at instant: Date, transfer: TransferID) throws(LedgerError)
        -> LedgerOutcome
    {
        let account = try creditAccount(id)
        guard let sink = outsideAccount(.adjustments) else { throw .wrongAccountKind(id, .adjustments) }
        let taken = try allocate(amount, from: account, at: instant, overdraft: false)
        let movements = taken.map { LotMovement(account: id, lot: $0.lot, delta: -$0.amount) }
        post(
            entry: id,
            to: sink.id,
            amount: amount,
            movements: movements,
            reference: nil,
            hold: nil,
            at: instant,
            transfer: transfer
        )
        return outcome(transfer, "withdraw", amount: amount, account: id, at: instant)
    }

    /// Credits move between pools and wallets, keeping their lots and expiry.
    mutating func move(from: AccountID, to: AccountID, amount: Credits, at instant: Date, transfer: TransferID)
        throws(LedgerError) -> LedgerOutcome
    {
        guard from != to else { throw .sameAccount }
        let source = try creditAccount(from)
        _ = try creditAccount(to)
        let taken = try allocate(amount, from: source, at: instant, overdraft: false)
        var movements = taken.map { LotMovement(account: from, lot: $0.lot, delta: -$0.amount) }
        movements += receive(taken, into: to)
        post(
            entry: from,
            to: to,
            amount: amount,
            movements: movements,
            reference: nil,
            hold: nil,
            at: instant,
            transfer: transfer
        )
        return outcome(transfer, "transfer", amount: amount, account: from, at: instant)
    }

    /// Movements for credits arriving in an account: they repay its overdraft first.
    func receive(_ incoming: [HoldPortion], into id: AccountID) -> [LotMovement] {
        let overdraftKey = PortionKey(account: id, lot: LedgerBook.overdraftLot(of: id))
        var debt = -(portions[overdraftKey]?.balance ?? .zero)
        var movements: [LotMovement] = []
        var repaid = Credits.zero
        for portion in incoming {
            let repay = min(debt, portion.amount)
            debt -= repay
            repaid += repay
            if (portion.amount - repay).isPositive {
                movements.append(LotMovement(account: id, lot: portion.lot, delta: portion.amount - repay))
            }
        }
        if repaid.isPositive { movements.append(LotMovement(account: id, lot: overdraftKey.lot, delta: repaid)) }
        return movements
    }

    /// Reserves credits: a pending hold on lot portions (and the overdraft line if any).
    mutating func reserve(
        _ holdID: HoldID,
        on id: AccountID,
        amount: Credits,
        reference: String,
        timeoutAt: Date,
        at instant: Date,
        transfer: TransferID
    ) throws(LedgerError) -> LedgerOutcome {
        let account = try creditAccount(id)
        guard holds[holdID] == nil else { throw .duplicateID(holdID.rawValue) }
        let taken = try allocate(amount, from: account, at: instant, overdraft: true)
        if taken.contains(where: { $0.lot == LedgerBook.overdraftLot(of: id) }) {
            ensureOverdraftLot(of: id, at: instant)
        }
        for portion in taken { adjustPortion(PortionKey(account: id, lot: portion.lot), held: portion.amount) }
        accounts[id]?.pending += amount
        changes.accounts[id] = accounts[id]
        let hold = Hold(
            id: holdID,
            account: id,
            amount: amount,
            status: .pending,
            postedAmount: .zero,
            portions: taken,
            reference: reference,
            createdAt: instant,
            timeoutAt: timeoutAt,
            resolvedAt: nil,
            reserveTransfer: transfer,
            resolveTransfer: nil
        )
        holds[holdID] = hold
        changes.holds[holdID] = hold
        changes.newHolds.insert(holdID)
        assertPortionsMatch(id)
        return outcome(transfer, "reserve", amount: amount, account: id, at: instant, hold: hold)
    }

    /// Reserves many holds, all or none: the total must fit what the account can spend.
    mutating func reserveAll(_ planned: [PlannedHold], on id: AccountID, at instant: Date, transfer: TransferID)
        throws(LedgerError) -> LedgerOutcome
    {
        let account = try creditAccount(id)
        guard !planned.isEmpty, planned.allSatisfy({ $0.amount.isPositive }) else { throw .nonPositiveAmount }
        var seen = Set<HoldID>()
        for hold in planned where holds[hold.hold] != nil || !seen.insert(hold.hold).inserted {
            throw .duplicateID(hold.hold.rawValue)
        }
        let total = planned.reduce(Credits.zero) { $0 + $1.amount }
        let available = spendable(id, at: instant)
        guard total <= available else { throw .insufficientCredits(available: available, requested: total) }
        holds.reserveCapacity(holds.count + planned.count)
        changes.holds.reserveCapacity(changes.holds.count + planned.count)
        changes.newHolds.reserveCapacity(changes.newHolds.count + planned.count)
        for item in planned {
            // Cannot fail: the total fits, and each allocation takes from what is left.
            let taken = try allocate(item.amount, from: account, at: instant, overdraft: true)
            if taken.contains(where: { $0.lot == LedgerBook.overdraftLot(of: id) }) {
                ensureOverdraftLot(of: id, at: instant)
            }
            for portion in taken { adjustPortion(PortionKey(account: id, lot: portion.lot), held: portion.amount) }
            let hold = Hold(
                id: item.hold,
                account: id,
                amount: item.amount,
                status: .pending,
                postedAmount: .zero,
                portions: taken,
                reference: item.reference,
                createdAt: instant,
                timeoutAt: item.timeoutAt,
                resolvedAt: nil,
                reserveTransfer: transfer,
                resolveTransfer: nil
            )
            holds[item.hold] = hold
            changes.holds[item.hold] = hold
            changes.newHolds.insert(item.hold)
        }
        accounts[id]?.pending += total
        changes.accounts[id] = accounts[id]
        assertPortionsMatch(id)
        return outcome(transfer, "reserve_all", amount: total, account: id, at: instant)
    }

    /// Resolves a pending hold: charges `amount` in spending order and releases the rest; released
    /// credits of a lot that has expired go to `expired`, not back to the account.
    mutating func resolve(
        _ holdID: HoldID,
        charging amount: Credits,
        as status: HoldStatus,
        at instant: Date,
        transfer: TransferID
    ) throws(LedgerError) -> LedgerOutcome {
        guard var hold = holds[holdID] else { throw .unknownHold(holdID) }
        guard hold.status == .pending else { throw .holdAlreadyResolved(holdID, hold.status) }
        guard amount >= .zero else { throw .nonPositiveAmount }
        guard amount <= hold.amount else { throw .postExceedsHold(hold: hold.amount, requested: amount) }
        guard let usage = outsideAccount(.usage), let expired = outsideAccount(.expired) else {
            throw .unknownAccount(hold.account)
        }
        let id = hold.account
        var remaining = amount
        var charged: [LotMovement] = []
        var lapsed: [LotMovement] = []
        for portion in hold.portions {
            let charge = min(portion.amount, remaining)
            remaining -= charge
            adjustPortion(PortionKey(account: id, lot: portion.lot), held: -portion.amount)
            if charge.isPositive { charged.append(LotMovement(account: id, lot: portion.lot, delta: -charge)) }
            let release = portion.amount - charge
            if release.isPositive, let lot = lots[portion.lot], lot.kind != .overdraft, lot.isExpired(at: instant) {
                lapsed.append(LotMovement(account: id, lot: portion.lot, delta: -release))
            }
        }
        accounts[id]?.pending -= hold.amount
        changes.accounts[id] = accounts[id]
        post(
            entry: id,
            to: usage.id,
            amount: amount,
            movements: charged,
            reference: hold.reference,
            hold: holdID,
            at: instant,
            transfer: transfer
        )
        let lapsedTotal = lapsed.reduce(Credits.zero) { $0 - $1.delta }
        post(
            entry: id,
            to: expired.id,
            amount: lapsedTotal,
            movements: lapsed,
            reference: nil,
            hold: holdID,
            at: instant,
            transfer: transfer
        )
        hold.status = status
        hold.postedAmount = amount
        hold.resolvedAt = instant
        hold.resolveTransfer = transfer
        holds[holdID] = hold
        changes.holds[holdID] = hold
        assertPortionsMatch(id)
        var result = outcome(
            transfer,
            status == .voided ? "void" : (status == .timedOut ? "time_out" : "post"),
            amount: amount,
            account: id,
            at: instant,
            hold: hold
        )
        result.released = hold.amount - amount
        return result
    }

    /// Moves what is left of an expired lot, in every account, to `expired`. Held portions stay
    /// with their holds; they lapse when the hold releases them.
    mutating func expire(_ lotID: LotID, at instant: Date, transfer: TransferID, forfeit: Bool = false)
        throws(LedgerError) -> LedgerOutcome
    {
        guard let lot = lots[lotID] else { throw .unknownLot(lotID) }
        guard lot.kind != .overdraft, forfeit || lot.isExpired(at: instant) else { throw .lotNotExpiring(lotID) }
        guard let expired = outsideAccount(.expired) else { throw .unknownLot(lotID) }
        var total = Credits.zero
        let holders = portions.filter { $0.key.lot == lotID && $0.value.free.isPositive }.sorted {
            $0.key.account < $1.key.account
        }
        for (key, portion) in holders {
            let free = portion.free
            total += free
            post(
                entry: key.account,
                to: expired.id,
                amount: free,
                movements: [LotMovement(account: key.account, lot: lotID, delta: -free)],
                reference: nil,
                hold: nil,
                at: instant,
                transfer: transfer
            )
        }
        return LedgerOutcome(transfer: transfer, operation: forfeit ? "forfeit" : "expire", amount: total)
    }

    /// Charges credits with no hold.
    mutating func spend(_ id: AccountID, amount: Credits, reference: String, at instant: Date, transfer: TransferID)
        throws(LedgerError) -> LedgerOutcome
    {
        let account = try creditAccount(id)
        guard let usage = outsideAccount(.usage) else { throw .unknownAccount(id) }
        let taken = try allocate(amount, from: account, at: instant, overdraft: true)
        if taken.contains(where: { $0.lot == LedgerBook.overdraftLot(of: id) }) {
            ensureOverdraftLot(of: id, at: instant)
        }
        let movements = taken.map { LotMovement(account: id, lot: $0.lot, delta: -$0.amount) }
        post(
            entry: id,
            to: usage.id,
            amount: amount,
            movements: movements,
            reference: reference,
            hold: nil,
            at: instant,
            transfer: transfer
        )
        return outcome(transfer, "spend", amount: amount, account: id, at: instant)
    }

    /// The outcome of an operation on one account, with its balances afterwards.
    func outcome(
        _ transfer: TransferID,
        _ name: String,
        amount: Credits,
        account id: AccountID,
        at instant: Date,
        hold: Hold? = nil
    ) -> LedgerOutcome {
        LedgerOutcome(
            transfer: transfer,
            operation: name,
            amount: amount,
            hold: hold?.id,
            holdStatus: hold?.status,
            balanceAfter: accounts[id]?.balance,
            availableAfter: spendable(id, at: instant, includingOverdraft: false)
        )
    }
}
