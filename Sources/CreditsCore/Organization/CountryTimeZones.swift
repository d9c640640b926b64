/// The time zones a new organisation may pick in its country (the sign-up page's list), the
/// country's most populous zone first.
extension Country {
    public var timeZones: [String] {
        switch self {
        case .us:
            [
                "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
                "America/Anchorage", "Pacific/Honolulu",
            ]
        case .ca:
            [
                "America/Toronto", "America/Vancouver", "America/Edmonton", "America/Winnipeg", "America/Regina",
                "America/Halifax", "America/St_Johns",
            ]
        case .au:
            [
                "Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Perth",
                "Australia/Adelaide", "Australia/Hobart", "Australia/Darwin",
            ]
        case .nz: ["Pacific/Auckland", "Pacific/Chatham"]
        case .gb: ["Europe/London"]
        }
    }
}
