from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0018_lock_reasons')]

    initial = False

    # A user's tokens by expiry: the list reads the live ones and the newest ended ones
    # from this index alone, however many tokens other accounts hold.
    operations = [
        ops.RemoveIndex(model_name='RefreshToken', fields=['user_id', 'revoked_at']),
        ops.AddIndex(
            model_name='RefreshToken',
            index=Index(fields=['user_id', 'expires_at']),
        ),
    ]
