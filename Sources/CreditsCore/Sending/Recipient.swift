/// Why a requested recipient was not sent to.
public enum SkipReason: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable {
    /// The number opted out (STOP).
    case optedOut = "opted_out"
    /// The number never opted in; only opted-in numbers receive messages.
    case notOptedIn = "not_opted_in"
    /// A merge field is unknown or empty for this recipient.
    case mergeField = "merge_field"
    /// The phone number is not valid.
    case invalidNumber = "invalid_number"
    /// The same number was requested more than once.
    case duplicate
    /// The contact or group does not exist in this organisation.
    case notFound = "not_found"
}
