from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_user_language')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='AccessToken',
            index=Index(fields=['refresh_token_id']),
        ),
        ops.AddIndex(
            model_name='AccessToken',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='SecurityEvent',
            index=Index(fields=['user_id', 'id']),
        ),
        ops.AddIndex(
            model_name='Session',
            index=Index(fields=['user_id', 'created_at']),
        ),
    ]
