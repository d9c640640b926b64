/// Why a ledger operation was refused. Refusals change nothing.
public enum LedgerError: Error, Sendable, Equatable {
    /// The account does not have enough available credits (posted − pending + overdraft line).
    case insufficientCredits(available: Credits, requested: Credits)
    /// Amounts must be above zero.
    case nonPositiveAmount
    /// No such account in this organisation.
    case unknownAccount(AccountID)
    /// The account cannot do this (credits only enter pools and wallets from source accounts).
    case wrongAccountKind(AccountID, AccountKind)
    /// A transfer to the same account.
    case sameAccount
    /// No such hold in this organisation.
    case unknownHold(HoldID)
    /// The hold already resolved; it resolves exactly once.
    case holdAlreadyResolved(HoldID, HoldStatus)
    /// A post of more than the hold reserved.
    case postExceedsHold(hold: Credits, requested: Credits)
    /// A time-out before the hold's timeout instant.
    case holdNotTimedOut(HoldID)
    /// No such lot in this organisation.
    case unknownLot(LotID)
    /// An expiry before the lot's expiry instant, or of a lot that never expires.
    case lotNotExpiring(LotID)
    /// A reserve with a hold id or a deposit with a lot id that already exists.
    case duplicateID(String)
    /// The idempotency key was used before for a different request.
    case idempotencyConflict(key: String)
    /// The idempotency key is empty or too long.
    case invalidIdempotencyKey

    /// Stable machine-readable code.
    public var code: String {
        switch self {
        case .insufficientCredits: "insufficient_credits"
        case .nonPositiveAmount: "amount_not_positive"
        case .unknownAccount: "account_not_found"
        case .wrongAccountKind: "account_kind_invalid"
        case .sameAccount: "transfer_same_account"
        case .unknownHold: "hold_not_found"
        case .holdAlreadyResolved: "hold_already_resolved"
        case .postExceedsHold: "post_exceeds_hold"
        case .holdNotTimedOut: "hold_not_timed_out"
        case .unknownLot: "lot_not_found"
        case .lotNotExpiring: "lot_not_expiring"
        case .duplicateID: "duplicate_id"
        case .idempotencyConflict: "idempotency_key_reused"
        case .invalidIdempotencyKey: "idempotency_key_invalid"
        }
    }

    /// A sentence for people.
    public var message: String {
        switch self {
        case .insufficientCredits(let available, let requested):
            "Not enough credits: \(requested) needed, \(available) available (short by \(requested - available))."
        case .nonPositiveAmount: "The amount must be more than zero."
        case .unknownAccount(let id): "No credit account \(id) in this organisation."
        case .wrongAccountKind(let id, let kind): "Account \(id) is a \(kind.rawValue) account and cannot do this."
        case .sameAccount: "Credits cannot be transferred to the account they come from."
        case .unknownHold(let id): "No hold \(id) in this organisation."
        case .holdAlreadyResolved(let id, let status): "Hold \(id) was already \(status.rawValue.replacingUnderscores)."
        case .postExceedsHold(let hold, let requested): "Cannot charge \(requested) credits on a hold of \(hold)."
        case .holdNotTimedOut(let id): "Hold \(id) has not reached its timeout yet."
        case .unknownLot(let id): "No lot \(id) in this organisation."
        case .lotNotExpiring(let id): "Lot \(id) does not expire at this time."
        case .duplicateID(let id): "The id \(id) is already used."
        case .idempotencyConflict(let key): "The idempotency key \(key) was already used for a different request."
        case .invalidIdempotencyKey:
            "An idempotency key of 1 to \(LedgerRequest.idempotencyKeyLengthMax) characters is required."
        }
    }

    /// The shortfall a refused reserve would need, for "402 with the shortfall".
    public var shortfall: Credits? {
        if case .insufficientCredits(let available, let requested) = self { return requested - available }
        return nil
    }
}

extension String {
    /// "timed_out" → "timed out", for sentences.
    var replacingUnderscores: String { split(separator: "_").joined(separator: " ") }
}
