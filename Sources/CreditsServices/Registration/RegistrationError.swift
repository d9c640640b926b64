import CreditsAdapters

/// Why a brand or number registration was refused.
public enum RegistrationError: DomainError, Equatable {
    /// Self-serve registration is for US organisations.
    case notSelfServe
    /// A brand field is missing.
    case fieldRequired(String)
    /// A brand is already submitted or registered.
    case brandExists(status: String)
    /// Not a three-digit area code.
    case areaCodeInvalid
    /// A number needs a brand first.
    case brandRequired
    /// The provider refused or could not be reached.
    case provider(ProviderError)
    /// Not local or toll_free.
    case kindInvalid(String)
    /// Not a toll-free prefix.
    case tollFreePrefixInvalid

    public var kind: RefusalKind {
        switch self {
        case .notSelfServe, .brandExists, .brandRequired: .conflict
        case .fieldRequired, .areaCodeInvalid, .kindInvalid, .tollFreePrefixInvalid: .invalid
        case .provider: .upstreamFailed
        }
    }

    public var code: String {
        switch self {
        case .notSelfServe: "not_self_serve"
        case .fieldRequired: "field_required"
        case .brandExists: "brand_exists"
        case .areaCodeInvalid, .kindInvalid, .tollFreePrefixInvalid: "field_invalid"
        case .brandRequired: "brand_required"
        case .provider(let error): error.kind.rawValue
        }
    }

    public var message: String {
        switch self {
        case .notSelfServe: "Self-signup for SMS is only available in the United States; contact support to enable SMS."
        case .fieldRequired(let field): "\(field) is required."
        case .brandExists(let status): "The brand is \(status); use Reset Brand to enter it again."
        case .areaCodeInvalid:
            "An area code is three digits that do not start with 0 or 1 and is not a toll-free prefix, e.g. 415."
        case .brandRequired: "Register your brand before asking for a phone number."
        case .provider(let error): error.message
        case .kindInvalid(let kind): "kind is local or toll_free, not “\(kind)”."
        case .tollFreePrefixInvalid: "A toll-free number starts with 800, 833, 844, 855, 866, 877 or 888."
        }
    }

    public var field: String? {
        switch self {
        case .fieldRequired(let field): field
        case .areaCodeInvalid, .tollFreePrefixInvalid: "area_code"
        case .kindInvalid: "kind"
        case .notSelfServe, .brandExists, .brandRequired, .provider: nil
        }
    }
}
