import CreditsServices

extension AppConfiguration {
    /// The note `serve` logs at start while invoices would name the seller by the default name,
    /// or without an address or tax id; nil once all three are set.
    public var sellerNote: String? {
        var missing: [String] = []
        if seller.name == Seller().name { missing.append("TEXTCREDITS_SELLER_NAME (your legal name)") }
        if seller.address == nil { missing.append("TEXTCREDITS_SELLER_ADDRESS (\\n between lines)") }
        if seller.taxID == nil { missing.append("TEXTCREDITS_SELLER_TAX_ID (ABN, GST or VAT number)") }
        guard !missing.isEmpty else { return nil }
        let names =
            missing.count == 1
            ? missing[0] : missing.dropLast().joined(separator: ", ") + " and " + missing[missing.count - 1]
        return
            "First run: tax invoices name the seller \"\(seller.name)\"\(seller.address == nil ? " with no address" : "")\(seller.taxID == nil ? (seller.address == nil ? " or tax id" : " with no tax id") : ""). Set \(names) before selling credits (README: The first hour)."
    }
}
