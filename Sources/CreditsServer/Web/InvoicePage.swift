import CreditsServices
import CreditsStore
import Foundation
import Mustache

/// The printable tax invoice or receipt, rendered from the invoice's view with the server's template.
extension InvoiceView {
    /// The printable page.
    public func html() -> String {
        InvoiceView.template.render(templateValues())
    }

    func templateValues() -> [String: Any] {
        func party(_ party: InvoiceParties.Party) -> [String: Any] {
            var values: [String: Any] = ["name": party.name]
            if let address = party.address {
                values["address_lines"] = address.split(whereSeparator: \.isNewline).map { ["line": String($0)] }
            }
            if let taxID = party.taxID { values["tax_id"] = taxID }
            if let email = party.email { values["email"] = email }
            return values
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "d MMMM yyyy, HH:mm 'UTC'"
        var values: [String: Any] = [
            "title": title, "number": number, "issued": formatter.string(from: issuedAt), "seller": party(seller),
            "buyer": party(buyer),
            "lines": lines.map {
                [
                    "description": $0.description, "quantity": String($0.quantity), "unit_price": $0.unitPrice,
                    "amount": $0.amount.text,
                ]
            },
            "subtotal": subtotal.text, "total": total.text, "currency": currency, "paid_with": paidWith,
            "charge_id": chargeID,
            "credits_added_to": creditsAddedTo,
        ]
        if let tax { values["tax"] = ["name": tax.name, "rate": tax.rate, "amount": tax.amount.text] }
        return values
    }

    static let template: MustacheTemplate = {
        guard let url = Bundle.module.url(forResource: "invoice", withExtension: "mustache", subdirectory: "Resources"),
            let text = try? String(contentsOf: url, encoding: .utf8), let template = try? MustacheTemplate(string: text)
        else {
            preconditionFailure("the invoice template ships with the server")
        }
        return template
    }()
}
