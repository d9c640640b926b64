import Foundation

/// A ledger operation: every way credits move (DESIGN §2).
public enum LedgerOperation: Sendable, Equatable {
    /// Credits enter a pool or wallet from a source account as a new lot (purchase, plan grant,
    /// positive adjustment). Repays the account's overdraft first.
    case deposit(account: AccountID, source: AccountKind, amount: Credits, lot: LotID, kind: LotKind, expiresAt: Date?)
    /// Available credits leave a pool or wallet back to `adjustments` (a negative adjustment).
    case withdraw(account: AccountID, amount: Credits)
    /// Credits move between two pools or wallets with their lots and expiry.
    case transfer(from: AccountID, to: AccountID, amount: Credits)
    /// Reserve credits for a message: a pending hold on specific lot portions.
    case reserve(hold: HoldID, account: AccountID, amount: Credits, reference: String, timeoutAt: Date)
    /// Reserve holds for many messages at once, all or none (a campaign): one transfer record,
    /// one hold per message.
    case reserveAll(account: AccountID, holds: [PlannedHold])
    /// Charge a pending hold, fully or partly (`amount` ≤ its amount); the rest is released.
    case post(hold: HoldID, amount: Credits)
    /// Release a pending hold without charge.
    case void(hold: HoldID)
    /// Resolve a pending hold whose timeout has passed, by policy.
    case timeOut(hold: HoldID, policy: TimeoutPolicy)
    /// Move what is left of an expired lot, in every account, to `expired`.
    case expire(lot: LotID)
    /// Move what is left of a lot, in every account, to `expired` whatever its expiry: the
    /// operator closed the account as spam (the only way never-expiring credits are removed).
    case forfeit(lot: LotID)
    /// Charge credits directly, with no hold (a call billed after it ended).
    case spend(account: AccountID, amount: Credits, reference: String)

    /// Stable name stored with the transfer.
    public var name: String {
        switch self {
        case .deposit: "deposit"
        case .withdraw: "withdraw"
        case .transfer: "transfer"
        case .reserve: "reserve"
        case .reserveAll: "reserve_all"
        case .post: "post"
        case .void: "void"
        case .timeOut: "time_out"
        case .expire: "expire"
        case .forfeit: "forfeit"
        case .spend: "spend"
        }
    }

    /// A canonical description of the request: the same key with a different fingerprint is
    /// a different request and is refused.
    public var fingerprint: String {
        func time(_ date: Date?) -> String {
            date.map { String(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? "-"
        }
        switch self {
        case .deposit(let account, let source, let amount, let lot, let kind, let expiresAt):
            return "deposit|\(account)|\(source.rawValue)|\(amount.milli)|\(lot)|\(kind.rawValue)|\(time(expiresAt))"
        case .withdraw(let account, let amount): return "withdraw|\(account)|\(amount.milli)"
        case .transfer(let from, let to, let amount): return "transfer|\(from)|\(to)|\(amount.milli)"
        case .reserve(let hold, let account, let amount, let reference, let timeoutAt):
            return "reserve|\(hold)|\(account)|\(amount.milli)|\(reference)|\(time(timeoutAt))"
        case .reserveAll(let account, let holds):
            // A digest of every hold keeps the fingerprint short for any number of holds.
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            var total: Int64 = 0
            for hold in holds {
                total += hold.amount.milli
                for byte in "\(hold.hold)|\(hold.amount.milli)|\(hold.reference)|\(time(hold.timeoutAt));".utf8 {
                    hash ^= UInt64(byte)
                    hash = hash &* 0x0000_0100_0000_01B3
                }
            }
            return "reserve_all|\(account)|\(holds.count)|\(total)|\(String(hash, radix: 16))"
        case .post(let hold, let amount): return "post|\(hold)|\(amount.milli)"
        case .void(let hold): return "void|\(hold)"
        case .timeOut(let hold, let policy): return "time_out|\(hold)|\(policy.rawValue)"
        case .expire(let lot): return "expire|\(lot)"
        case .forfeit(let lot): return "forfeit|\(lot)"
        case .spend(let account, let amount, let reference): return "spend|\(account)|\(amount.milli)|\(reference)"
        }
    }

    /// A 64-bit FNV-1a digest of `fingerprint`, in hex: what the store keeps to tell a repeat
    /// from a different request under the same key.
    public var fingerprintDigest: String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in fingerprint.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let text = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    /// The hold a post, void or time-out resolves.
    public var resolvedHold: HoldID? {
        switch self {
        case .post(let hold, _), .void(let hold), .timeOut(let hold, _): hold
        default: nil
        }
    }
}

/// One hold of a `reserveAll`.
public struct PlannedHold: Sendable, Equatable {
    public var hold: HoldID
    public var amount: Credits
    /// The message it pays for.
    public var reference: String
    public var timeoutAt: Date

    public init(hold: HoldID, amount: Credits, reference: String, timeoutAt: Date) {
        self.hold = hold
        self.amount = amount
        self.reference = reference
        self.timeoutAt = timeoutAt
    }
}

/// One operation with its idempotency key, the instant it happens, and who asked.
public struct LedgerRequest: Sendable, Equatable {
    /// The organisation whose ledger it touches.
    public var organization: OrganizationID
    /// Repeats with the same key return the first result.
    public var idempotencyKey: String
    /// What to do.
    public var operation: LedgerOperation
    /// When it happens; rules never read a clock.
    public var at: Date
    /// Staff member, API key or system process responsible, for the statement.
    public var actor: String
    /// A sentence for the statement ("Purchase of 100 credits", "Message to +1…").
    public var memo: String
    /// The audit entry written in the same transaction when the operation applies (not on a
    /// replay). Its message may use {{amount}}, {{balance_after}} and {{available_after}}.
    public var audit: AuditRecord?

    /// A request; the key must be 1–200 characters.
    public init(
        organization: OrganizationID,
        idempotencyKey: String,
        operation: LedgerOperation,
        at: Date,
        actor: String = "system",
        memo: String = "",
        audit: AuditRecord? = nil
    ) {
        self.organization = organization
        self.idempotencyKey = idempotencyKey
        self.operation = operation
        self.at = at
        self.actor = actor
        self.memo = memo
        self.audit = audit
    }

    /// Longest idempotency key accepted.
    public static let idempotencyKeyLengthMax = 200
}
