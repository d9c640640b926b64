import CreditsCore
import CreditsServer

/// A readable breakdown of an estimate for the terminal.
enum EstimateReport {
    static func text(_ estimate: Estimate, channel: Channel) -> String {
        var lines: [String] = []
        let unitName = estimate.encoding == .gsm7 ? "septets" : "UTF-16 units"
        lines.append("Encoding:    \(estimate.encoding.rawValue)")
        lines.append("Characters:  \(estimate.characters)")
        let parts = estimate.perSegmentUnits.map(String.init).joined(separator: " + ")
        lines.append("Segments:    \(estimate.segments) (\(parts) \(unitName), \(estimate.units) in all)")
        lines.append("Credits:     \(estimate.credits) per recipient (\(channel.rawValue))")
        if !estimate.forcingCharacters.isEmpty {
            let shown = estimate.forcingCharacters.prefix(10).map { "\($0.character) at \($0.index + 1)" }.joined(
                separator: ", "
            )
            let more = estimate.forcingCharacters.count > 10 ? " and \(estimate.forcingCharacters.count - 10) more" : ""
            lines.append("UCS-2 because of: \(shown)\(more)")
        }
        let smart = estimate.smartEncoding
        if smart.creditsSaved.isPositive {
            let verb = smart.enabled ? "saved" : "would save"
            let examples = smart.replacements.prefix(5).map {
                "\($0.original) → \($0.replacement.isEmpty ? "(removed)" : $0.replacement)"
            }
            lines.append(
                "Smart encoding \(verb) \(smart.creditsSaved) credits per recipient (\(examples.joined(separator: ", ")))."
            )
        }
        if !estimate.warnings.isEmpty {
            lines.append("Warnings:")
            for warning in estimate.warnings { lines.append("  - [\(warning.code.rawValue)] \(warning.message)") }
        }
        return lines.joined(separator: "\n")
    }
}
