import CreditsAdapters
import CreditsCore

/// Why a purchase, a payment method or billing details were refused.
public enum PurchaseError: DomainError, Equatable {
    /// What a payment method is needed for.
    public enum Purpose: Sendable, Equatable {
        case purchase
        case autoRenew
        /// A plan's, an add-on's or a monthly fee.
        case fee
    }

    /// The credits cannot be priced (below the minimum, above the maximum, not self-serve).
    case quote(BillingError)
    /// No payment method on file.
    case paymentMethodRequired(Purpose)
    /// The charge was declined; nothing was added.
    case declined(code: String, reason: String)
    /// The gateway's answer was lost; the purchase completes or fails on its own.
    case unconfirmed(purchaseID: String)
    /// The Idempotency-Key was used for a different purchase.
    case idempotencyConflict
    /// The gateway refused the payment method given.
    case paymentMethodRefused(PaymentError)
    /// Not exactly one of card, bank account or token.
    case paymentMethodAmbiguous
    /// A billing detail over its length.
    case detailTooLong(field: String, limit: Int)
    /// The billing email is not an address.
    case billingEmailInvalid
    /// Neither or both of credits and bucket.
    case creditsOrBucket
    /// No plan with that id offers a bucket in the organisation's country.
    case unknownBucket(String)
    /// The account was closed as spam.
    case accountClosed

    public var kind: RefusalKind {
        switch self {
        case .quote(.notSelfServe): .conflict
        case .quote: .invalid
        case .paymentMethodRequired, .idempotencyConflict: .conflict
        case .declined: .paymentRequired
        case .unconfirmed: .unavailable
        case .paymentMethodRefused(let error):
            switch error.kind {
            case .invalid, .expired: .invalid
            case .declined, .insufficientFunds, .authenticationRequired: .paymentRequired
            case .temporary, .configuration: .upstreamFailed
            }
        case .paymentMethodAmbiguous, .detailTooLong, .billingEmailInvalid, .creditsOrBucket: .invalid
        case .unknownBucket: .notFound
        case .accountClosed: .conflict
        }
    }

    public var code: String {
        switch self {
        case .quote(let error): error.code
        case .paymentMethodRequired: "payment_method_required"
        case .declined(let code, _): code
        case .unconfirmed: "payment_unconfirmed"
        case .idempotencyConflict: "idempotency_conflict"
        case .paymentMethodRefused(let error): kind == .upstreamFailed ? "gateway_unavailable" : error.code
        case .paymentMethodAmbiguous: "payment_method_ambiguous"
        case .detailTooLong: "field_too_long"
        case .billingEmailInvalid: "field_invalid"
        case .creditsOrBucket: "field_invalid"
        case .unknownBucket: "bucket_not_found"
        case .accountClosed: "organization_marked_spam"
        }
    }

    public var message: String {
        switch self {
        case .quote(let error): error.message
        case .paymentMethodRequired(.purchase):
            "Add a payment method (PUT /v1/billing/payment-method) before buying credits."
        case .paymentMethodRequired(.autoRenew):
            "Add a payment method (PUT /v1/billing/payment-method) before turning on auto-renew."
        case .paymentMethodRequired(.fee):
            "Add a payment method (PUT /v1/billing/payment-method) before paying for a plan or an add-on."
        case .declined(_, let reason): "The payment was declined (\(reason)). No credits were added."
        case .unconfirmed(let id):
            "The payment gateway did not confirm the charge. No credits were added yet; the purchase \(id) is completed or declined automatically within minutes — repeat the request with the same Idempotency-Key to see its outcome."
        case .idempotencyConflict: "This Idempotency-Key was already used for a different purchase."
        case .paymentMethodRefused(let error):
            kind == .upstreamFailed ? "The payment gateway could not be reached; try again." : error.message
        case .paymentMethodAmbiguous: "Send exactly one of card, bank_account or token."
        case .detailTooLong(let field, let limit): "\(field) has more than \(limit) characters."
        case .billingEmailInvalid: "The email address is not valid."
        case .creditsOrBucket:
            "Give either credits (a quantity, at least the minimum) or bucket (a plan's credit bucket)."
        case .unknownBucket(let id):
            "There is no credit bucket “\(id)” on offer; GET /v1/plans lists the plans whose buckets you can buy."
        case .accountClosed: "This account was closed as spam; contact support."
        }
    }

    public var field: String? {
        switch self {
        case .quote: "credits"
        case .paymentMethodRefused(let error): error.kind == .invalid || error.kind == .expired ? "payment_method" : nil
        case .paymentMethodAmbiguous: "card"
        case .detailTooLong(let field, _): field
        case .billingEmailInvalid: "email"
        case .creditsOrBucket: "credits"
        case .unknownBucket: "bucket"
        case .paymentMethodRequired, .declined, .unconfirmed, .idempotencyConflict, .accountClosed: nil
        }
    }
}

/// Why an auto-renew setting was refused.
public enum AutoRenewError: DomainError, Equatable {
    /// A mode other than immediate or monthly.
    case unknownMode
    /// No amount or threshold given, and none saved before.
    case amountsRequired
    /// A threshold outside 0–10,000,000.
    case thresholdOutOfRange

    public var kind: RefusalKind { .invalid }
    public var code: String { "field_invalid" }

    public var message: String {
        switch self {
        case .unknownMode: "mode is immediate or monthly."
        case .amountsRequired: "Give credits (bought each time) and threshold (buy when the balance falls below it)."
        case .thresholdOutOfRange: "threshold must be 0–10,000,000 credits."
        }
    }

    public var field: String? {
        switch self {
        case .unknownMode: "mode"
        case .amountsRequired: "credits"
        case .thresholdOutOfRange: "threshold"
        }
    }
}

/// Why a plan was refused.
public enum PlanError: DomainError, Equatable {
    /// Plan credits outside 1–10,000,000 a cycle.
    case creditsOutOfRange

    public var kind: RefusalKind { .invalid }
    public var code: String { "field_invalid" }
    public var message: String { "A plan grants 1–10,000,000 credits a cycle." }
    public var field: String? { "credits" }
}
