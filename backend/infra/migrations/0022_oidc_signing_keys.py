from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.kernel.clock import now
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0021_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SigningKey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kid', fields.CharField(unique=True, max_length=64)),
                ('alg', fields.CharField(max_length=8)),
                ('signing_for', fields.CharField(null=True, unique=True, max_length=8)),
                ('sealed_jwk', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('retired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_signing_keys', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A private key (a JWK), sealed with the secret key. Its public half is published while'},
            bases=['Model'],
        ),
    ]
