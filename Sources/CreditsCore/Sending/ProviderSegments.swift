/// What a provider may report as a message's segment count. A body has at most 1,600 characters
/// plus a header and footer, which is at most 26 UCS-2 segments; anything outside 1–100 is not a
/// report to trust (and `Int.max` segments would overflow any price).
public enum ProviderSegments {
    public static let range = 1...100

    /// The count in a provider's text, or nil when it is missing, not a number, or out of range.
    public static func parse(_ text: String?) -> Int? {
        guard let text, let value = Int(text), range.contains(value) else { return nil }
        return value
    }
}
