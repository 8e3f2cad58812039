from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.kernel.clock import now
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_outbox')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ServiceClient',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('client_id', fields.CharField(unique=True, max_length=40)),
                ('secret_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'service_clients', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A platform service the operator allowed to introspect tokens.'},
            bases=['Model'],
        ),
    ]
