import CreditsCore

/// Why a credits request (a transfer, an allotment, an adjustment, a wallet) was refused.
public enum CreditError: DomainError, Equatable {
    /// The organisation shares one pool; staff have no wallets.
    case individualCreditsOff
    /// This staff member shares the pool (owners and admins have no wallet).
    case noWallet(staffName: String)
    /// `reference` names no pool, staff member or wallet of the organisation.
    case unknownAccount(reference: String, field: String)
    /// A transfer of zero or less.
    case transferNotPositive
    /// A monthly allotment over what the organisation leaves unassigned.
    case allotmentTooLarge(AllotmentError)
    /// Credits are still held for the staff member's messages in flight.
    case messagesInFlight(staffName: String, pending: Credits)
    /// An adjustment of zero.
    case adjustmentZero
    /// Only an owner switches between shared and individual credits.
    case ownerOnlyModeSwitch
    /// Not shared or individual.
    case unknownMode(String)

    public var kind: RefusalKind {
        switch self {
        case .individualCreditsOff, .noWallet, .messagesInFlight: .conflict
        case .unknownAccount: .notFound
        case .transferNotPositive, .allotmentTooLarge, .adjustmentZero, .unknownMode: .invalid
        case .ownerOnlyModeSwitch: .forbidden
        }
    }

    public var code: String {
        switch self {
        case .individualCreditsOff: "individual_credits_off"
        case .noWallet: "no_wallet"
        case .unknownAccount: "not_found"
        case .transferNotPositive, .adjustmentZero: "field_invalid"
        case .allotmentTooLarge: "allotment_too_large"
        case .messagesInFlight: "messages_in_flight"
        case .ownerOnlyModeSwitch: "forbidden"
        case .unknownMode: "field_invalid"
        }
    }

    public var message: String {
        switch self {
        case .individualCreditsOff: "This organisation shares one pool; staff have no wallets of their own."
        case .noWallet(let name): "\(name) shares the pool (owners and admins have no wallet)."
        case .unknownAccount(let reference, let field):
            "\(field): no pool, staff member or wallet \(reference) in this organisation."
        case .transferNotPositive: "credits must be more than zero."
        case .allotmentTooLarge(let error): error.message
        case .messagesInFlight(let name, let pending):
            "\(name) has \(pending) credits held for messages still being delivered; delete them once those settle."
        case .adjustmentZero: "The adjustment must not be zero."
        case .ownerOnlyModeSwitch: "Only an owner can switch between shared and individual credits."
        case .unknownMode(let mode): "The credit mode is shared or individual, not “\(mode)”."
        }
    }

    public var field: String? {
        switch self {
        case .unknownAccount(_, let field): field
        case .transferNotPositive, .adjustmentZero: "credits"
        case .allotmentTooLarge: "credits_per_month"
        case .unknownMode: "mode"
        case .individualCreditsOff, .noWallet, .messagesInFlight, .ownerOnlyModeSwitch: nil
        }
    }
}
