from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_twofactor')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EmailChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='email_change', on_delete=OnDelete.CASCADE)),
                ('new_email', fields.CharField(max_length=254)),
                ('code_hash', fields.CharField(max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('failed_attempts', fields.IntField(default=0)),
            ],
            options={'table': 'email_changes', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A new address waiting for the code sent to it (the account keeps the old one until then).'},
            bases=['Model'],
        ),
    ]
