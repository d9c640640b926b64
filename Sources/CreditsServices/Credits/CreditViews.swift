import CreditsCore
import CreditsStore
import Foundation

/// One lot's part in an account, as the API shows it.
public struct LotView: Encodable, Sendable {
    public var lotID: LotID
    public var kind: LotKind
    public var expiresAt: Date?
    public var balance: Credits
    public var held: Credits

    enum CodingKeys: String, CodingKey {
        case kind, balance, held
        case lotID = "lot_id"
        case expiresAt = "expires_at"
    }
}

/// A pool or wallet: posted, pending and available credits and their lots.
public struct AccountView: Encodable, Sendable {
    public var accountID: AccountID
    /// Posted balance (sum of entries).
    public var posted: Credits
    /// Reserved by pending holds.
    public var pending: Credits
    /// What can be spent now: free credits of lots that have not expired.
    public var available: Credits
    public var overdraftLimit: Credits
    public var lots: [LotView]
    /// For wallets.
    public var staffID: String?
    public var staffName: String?
    public var creditsPerMonth: Credits?

    enum CodingKeys: String, CodingKey {
        case posted, pending, available, lots
        case accountID = "account_id"
        case overdraftLimit = "overdraft_limit"
        case staffID = "staff_id"
        case staffName = "staff_name"
        case creditsPerMonth = "credits_per_month"
    }

    init(account: LedgerAccount, lots: [(lot: Lot, portion: Portion)], at instant: Date) {
        accountID = account.id
        posted = account.balance
        pending = account.pending
        overdraftLimit = account.overdraftLimit
        self.lots = lots.filter { $0.lot.kind != .overdraft }.map {
            LotView(
                lotID: $0.lot.id,
                kind: $0.lot.kind,
                expiresAt: $0.lot.expiresAt,
                balance: $0.portion.balance,
                held: $0.portion.held
            )
        }
        available = lots.filter { $0.lot.kind != .overdraft && !$0.lot.isExpired(at: instant) }.reduce(.zero) {
            $0 + $1.portion.free
        }
    }
}

/// `GET /v1/credits`.
public struct CreditsView: Encodable, Sendable {
    public var creditMode: CreditMode
    public var pool: AccountView
    public var wallets: [AccountView]
    /// Monthly allotments assigned to staff, and how much more could be assigned.
    public var allotments: AllotmentView

    enum CodingKeys: String, CodingKey {
        case pool, wallets, allotments
        case creditMode = "credit_mode"
    }
}

/// The allotment rule's numbers.
public struct AllotmentView: Encodable, Sendable {
    public var assigned: Credits
    public var unassigned: Credits
}

/// `POST /v1/credits/transfers`.
public struct TransferInput: APIInput, Sendable {
    /// "pool" or a staff member's id.
    public var from: String
    public var to: String
    public var credits: Credits
    public var note: String?

    public static let fields = JSONFields(["from", "to", "credits", "note"])

    public init(from: String, to: String, credits: Credits, note: String? = nil) {
        self.from = from
        self.to = to
        self.credits = credits
        self.note = note
    }
}

/// The result of a transfer.
public struct TransferView: Encodable, Sendable {
    public var transferID: TransferID
    public var from: String
    public var to: String
    public var credits: Credits
    public var replayed: Bool

    enum CodingKeys: String, CodingKey {
        case from, to, credits, replayed
        case transferID = "transfer_id"
    }
}

/// The Edit Credits dialog's figures (PastorsLine): Total Company Credits, what the plan gives
/// a month less what the numbers use and the other staff are given, and the staff member's own
/// Total Credits and Credits per Month.
public struct AllotmentCapacityView: Encodable, Sendable {
    /// What the pool holds now ("Total Company Credits").
    public var companyCredits: Credits
    /// The plan's credits a month, when there is a plan.
    public var planCreditsPerMonth: Credits?
    /// What the organisation's numbers cost a month.
    public var numbersPerMonth: Credits
    /// What the other staff are given a month.
    public var othersPerMonth: Credits
    /// The most this staff member may be given a month.
    public var maximum: Credits
    /// The staff member's wallet now ("Total Credits"), when they have one.
    public var staffCredits: Credits?
    public var staffCreditsPerMonth: Credits?
    /// Owners, Admin+ and admins share the pool ("Shared") and get no allotment.
    public var shared: Bool
    /// Why an allotment asked about cannot be given (absent when it can).
    public var message: String?

    enum CodingKeys: String, CodingKey {
        case maximum, shared, message
        case companyCredits = "company_credits"
        case planCreditsPerMonth = "plan_credits_per_month"
        case numbersPerMonth = "numbers_per_month"
        case othersPerMonth = "others_per_month"
        case staffCredits = "staff_credits"
        case staffCreditsPerMonth = "staff_credits_per_month"
    }
}
