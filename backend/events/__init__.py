"""Events for the platform: each account change is written, in the transaction that makes
it, as a delivery to every webhook endpoint that asked for its type, and sent signed per the
Standard Webhooks specification by whichever worker claims it first."""
