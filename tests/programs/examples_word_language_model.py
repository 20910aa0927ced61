# Source: pytorch/examples, word_language_model/model.py (RNNModel, verbatim) with the training
#   loop of word_language_model/main.py
#   https://github.com/pytorch/examples/blob/001d493285083b54cacbc1334cb26338bdff2455/word_language_model/model.py
#   https://github.com/pytorch/examples/blob/0f4dca7dc202798f545ca7c006c91956cb584f43/word_language_model/main.py
# Changes (ember corpus):
#   - data.Corpus (a download of Wikitext-2) replaced by a word-level corpus built from an inline
#     text, split 80/10/10 into train/valid/test
#   - main.py's loop brought to torch 2.x the way its later versions have it: repackage_hidden uses
#     .detach() (Variable is gone), `total_loss[0]` -> `total_loss` / `.item()`, `p.data.add_(-lr, g)`
#     -> `p.data.add_(g, alpha=-lr)`, clip_grad_norm -> clip_grad_norm_; timing columns dropped
#   - sizes: emsize/nhid 200 -> 32, nlayers 2, bptt 35 -> 8, batch size 20 -> 4, 2 epochs,
#     log-interval 200 -> 2; the best model is saved to (and reloaded from) a temporary directory
import math
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super(RNNModel, self).__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ['LSTM', 'GRU']:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            try:
                nonlinearity = {'RNN_TANH': 'tanh', 'RNN_RELU': 'relu'}[rnn_type]
            except KeyError as e:
                raise ValueError( """An invalid option for `--model` was supplied,
                                 options are ['LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU']""") from e
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)

        if tie_weights:
            if nhid != ninp:
                raise ValueError('When using the tied flag, nhid must be equal to emsize')
            self.decoder.weight = self.encoder.weight

        self.init_weights()

        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        else:
            return weight.new_zeros(self.nlayers, bsz, self.nhid)


class Args:
    model = 'LSTM'; emsize = 32; nhid = 32; nlayers = 2; lr = 20; clip = 0.25; epochs = 2
    batch_size = 4; bptt = 8; dropout = 0.2; tied = False; seed = 1111; log_interval = 2


args = Args()
torch.manual_seed(args.seed)
device = torch.device("cpu")

TEXT = ("the cat sat on the mat . the dog sat on the log . a cat and a dog met on a mat . "
        "the dog saw the cat and the cat saw the dog . on the log sat a frog . the frog saw a cat . ") * 4
words = TEXT.split()
vocab = {}
for w in words:
    vocab.setdefault(w, len(vocab))
ids = torch.tensor([vocab[w] for w in words], dtype=torch.long)
n = len(ids)
train_ids, valid_ids, test_ids = ids[:int(0.8 * n)], ids[int(0.8 * n):int(0.9 * n)], ids[int(0.9 * n):]


def batchify(data, bsz):
    # Work out how cleanly we can divide the dataset into bsz parts.
    nbatch = data.size(0) // bsz
    # Trim off any extra elements that wouldn't cleanly fit (remainders).
    data = data.narrow(0, 0, nbatch * bsz)
    # Evenly divide the data across the bsz batches.
    data = data.view(bsz, -1).t().contiguous()
    return data.to(device)

eval_batch_size = 2
train_data = batchify(train_ids, args.batch_size)
val_data = batchify(valid_ids, eval_batch_size)
test_data = batchify(test_ids, eval_batch_size)

ntokens = len(vocab)
print("vocab size (%d)" % (ntokens))
model = RNNModel(args.model, ntokens, args.emsize, args.nhid, args.nlayers, args.dropout, args.tied).to(device)

criterion = nn.NLLLoss()


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i):
    seq_len = min(args.bptt, len(source) - 1 - i)
    data = source[i:i+seq_len]
    target = source[i+1:i+1+seq_len].view(-1)
    return data, target


def evaluate(data_source):
    # Turn on evaluation mode which disables dropout.
    model.eval()
    total_loss = 0.
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, args.bptt):
            data, targets = get_batch(data_source, i)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train():
    # Turn on training mode which enables dropout.
    model.train()
    total_loss = 0.
    hidden = model.init_hidden(args.batch_size)
    for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
        data, targets = get_batch(train_data, i)
        hidden = repackage_hidden(hidden)
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()

        # `clip_grad_norm` helps prevent the exploding gradient problem in RNNs / LSTMs.
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)

        total_loss += loss.item()

        if batch % args.log_interval == 0 and batch > 0:
            cur_loss = total_loss / args.log_interval
            print('| epoch {:3d} | {:5d}/{:5d} batches | lr {:02.2f} | '
                    'loss {:5.2f} | ppl {:8.2f}'.format(
                epoch, batch, len(train_data) // args.bptt, lr, cur_loss, math.exp(cur_loss)))
            total_loss = 0


# Loop over epochs.
lr = args.lr
best_val_loss = None
save = os.path.join(tempfile.mkdtemp(), 'model.pt')

for epoch in range(1, args.epochs+1):
    train()
    val_loss = evaluate(val_data)
    print('-' * 89)
    print('| end of epoch {:3d} | valid loss {:5.2f} | '
            'valid ppl {:8.2f}'.format(epoch, val_loss, math.exp(val_loss)))
    print('-' * 89)
    # Save the model if the validation loss is the best we've seen so far.
    if not best_val_loss or val_loss < best_val_loss:
        with open(save, 'wb') as f:
            torch.save(model, f)
        best_val_loss = val_loss
    else:
        # Anneal the learning rate if no improvement has been seen in the validation dataset.
        lr /= 4.0

# Load the best saved model.
with open(save, 'rb') as f:
    model = torch.load(f, weights_only=False)

# Run on test data.
test_loss = evaluate(test_data)
print('=' * 89)
print('| End of training | test loss {:5.2f} | test ppl {:8.2f}'.format(
    test_loss, math.exp(test_loss)))
print('=' * 89)
