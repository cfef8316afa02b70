"""The JSON shapes every door answers with: what ``clinicledger --json COMMAND`` prints is
what ``/api/v1`` returns for the same request, key for key (issue 10). One module per
noun, as ``services/``; each function takes what a service returned and gives a plain
``dict`` of stable snake_case keys, amounts as decimal strings ("30.00"), dates and
moments in ISO form. A door never builds a shape of its own for something a service
returns: the command line and the API call the same function here."""
