/// Version 13: how staff say a contact's consent was given ("signed the enrolment form"), kept
/// with each consent event beside the text a recipient sent.
enum ConsentBasisSchema {
    static let migration = Migration(version: 13, name: "consent basis") { _ in
        ["ALTER TABLE consent_events ADD COLUMN basis TEXT CHECK (basis IS NULL OR length(basis) BETWEEN 1 AND 200)"]
    }
}
