/// What an audit entry records. The raw value is the stable code the API shows and filters by
/// (`?action=credits` matches every `credits.…`).
public enum AuditAction: String, Sendable, Codable, CaseIterable {
    case organizationCreated = "organization.created"
    case organizationRenamed = "organization.renamed"
    case smsSettingsUpdated = "settings.sms_updated"

    case staffCreated = "staff.created"
    case staffUpdated = "staff.updated"
    case passwordReset = "staff.password_reset"
    case staffDeleted = "staff.deleted"
    case apiKeyCreated = "api_key.created"
    case apiKeyRevoked = "api_key.revoked"

    case contactCreated = "contact.created"
    case contactUpdated = "contact.updated"
    case contactDeleted = "contact.deleted"
    case groupCreated = "group.created"
    case groupRenamed = "group.renamed"
    case groupDeleted = "group.deleted"
    case contactsImported = "contact.imported"
    case contactOptedIn = "contact.opted_in"
    case contactOptedOut = "contact.opted_out"
    /// Staff tried to opt in a number whose recipient had texted STOP.
    case optInRefused = "contact.opt_in_refused"
    /// Someone asked to be texted (the opt-in page or JOIN) and was sent a text to confirm with YES.
    case optInRequested = "contact.opt_in_requested"

    case smsRequested = "sms.requested"
    case smsMergeError = "sms.merge_error"
    /// A campaign, or one of its messages, canceled before it was sent.
    case smsCanceled = "sms.canceled"
    case smsSignup = "sms.signup"
    case smsSignupFailed = "sms.signup_failed"
    case smsFlagged = "sms.flagged"
    case smsDelivered = "sms.delivered"
    case smsUndelivered = "sms.undelivered"
    case smsFailed = "sms.failed"
    case smsTimedOut = "sms.timed_out"
    case brandSubmitted = "sms.brand_submitted"
    case brandRegistered = "sms.brand_registered"
    case brandFailed = "sms.brand_failed"
    case brandReset = "sms.brand_reset"
    case numberRequested = "sms.number_requested"
    case numberAssigned = "sms.number_assigned"
    case numberFailed = "sms.number_failed"

    case creditsTransferred = "credits.transferred"
    case creditsReturned = "credits.returned"
    case creditsAdjusted = "credits.adjusted"
    case creditsAllotted = "credits.allotted"
    case allotmentFailed = "credits.allotment_failed"
    case creditsExpired = "credits.expired"
    case creditsPurchased = "credits.purchased"
    case creditsAutoRenewed = "credits.auto_renewed"
    case purchaseFailed = "credits.purchase_failed"
    case autoRenewUpdated = "credits.auto_renew_updated"
    case autoRenewFailed = "credits.auto_renew_failed"
    case autoRenewReenabled = "credits.auto_renew_reenabled"

    case billingDetailsUpdated = "billing.details_updated"
    case paymentMethodUpdated = "billing.payment_method_updated"

    case planUpdated = "plan.updated"
    case planGranted = "plan.granted"
    case planMissed = "plan.missed"
}
